import { describe, expect, it } from "vitest";
import { openLocalStore } from "../../shared/local/sqlite-database.js";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { writeFindings } from "../../shared/stages/findings.js";
import { TABLES } from "../../shared/stages/tables.js";
import { MATCHES, sampleReport } from "../report/report-fixture.js";

const DIGEST = `sha256:${"c".repeat(64)}`;

async function rows(tables: TableStore) {
  const out = new Map<string, { etag: string; severity: unknown }>();
  for await (const row of tables.query(TABLES.findings, { partitionKey: DIGEST }))
    out.set(row.rowKey, { etag: row.etag, severity: row.properties.severity });
  return out;
}

describe("writeFindings: the findings rows of an image's latest verdict", () => {
  it("replaces the set on a re-verdict: gone findings deleted, changed ones rewritten, unchanged ones left as they are", async () => {
    const tables = new SqliteTableStore(openLocalStore(":memory:"));
    const first = sampleReport().report;
    await writeFindings(tables, DIGEST, first);
    const before = await rows(tables);
    expect(before.size).toBe(first.findings.length);

    // the next verdict: one finding fixed, one re-rated, the rest the same
    const [gone, rerated, ...same] = MATCHES;
    const next = sampleReport({}, [{ ...rerated!, severity: "low" }, ...same]).report;
    expect(next.findings.length).toBe(first.findings.length - 1);
    await writeFindings(tables, DIGEST, next);
    const after = await rows(tables);

    expect([...after.keys()].sort()).toEqual(
      next.findings.map((f) => `${f.id}|${f.package.name}|${f.package.version}`).sort(),
    );
    expect([...after.keys()].some((k) => k.startsWith(`${gone!.id}|`))).toBe(false);
    const reratedKey = [...after.keys()].find((k) => k.startsWith(`${rerated!.id}|`))!;
    expect(after.get(reratedKey)!.severity).toBe("low");
    expect(after.get(reratedKey)!.etag).not.toBe(before.get(reratedKey)!.etag);
    for (const [key, row] of after) if (key !== reratedKey) expect(row.etag).toBe(before.get(key)!.etag);

    // a redelivery of the same verdict writes nothing
    await writeFindings(tables, DIGEST, next);
    expect(await rows(tables)).toEqual(after);
  });
});
