import { describe, expect, it } from "vitest";
import { openLocalStore } from "../../shared/local/sqlite-database.js";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import type { Finding } from "../../shared/model/report.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { readFindings, writeFindings } from "../../shared/stages/findings.js";
import { TABLES } from "../../shared/stages/tables.js";
import { MATCHES, sampleReport } from "../report/report-fixture.js";

const DIGEST = `sha256:${"c".repeat(64)}`;

async function etags(tables: TableStore) {
  const out = new Map<string, string>();
  for await (const row of tables.query(TABLES.findings, { partitionKey: DIGEST }))
    out.set(row.rowKey, row.etag);
  return out;
}

const keyOf = (f: { id: string; package: string; version: string }) => `${f.id}|${f.package}|${f.version}`;
const keysOf = (findings: readonly Finding[]) =>
  findings.map((f) => `${f.id}|${f.package.name}|${f.package.version}`).sort();

describe("writeFindings: the findings of an image's latest verdict", () => {
  it("replaces the set on a re-verdict: gone findings gone, changed ones rewritten, a redelivery writes nothing", async () => {
    const tables = new SqliteTableStore(openLocalStore(":memory:"));
    const first = sampleReport().report;
    await writeFindings(tables, DIGEST, first);
    expect((await readFindings(tables, DIGEST)).map(keyOf).sort()).toEqual(keysOf(first.findings));
    // one row for the whole set, not one per finding
    expect((await etags(tables)).size).toBe(1);

    // the next verdict: one finding fixed, one re-rated, the rest the same
    const [gone, rerated, ...same] = MATCHES;
    const next = sampleReport({}, [{ ...rerated!, severity: "low" }, ...same]).report;
    expect(next.findings.length).toBe(first.findings.length - 1);
    await writeFindings(tables, DIGEST, next);
    const after = await readFindings(tables, DIGEST);
    expect(after.map(keyOf).sort()).toEqual(keysOf(next.findings));
    expect(after.some((f) => f.id === gone!.id)).toBe(false);
    expect(after.find((f) => f.id === rerated!.id)!.severity).toBe("low");
    const suppressed = after.find((f) => f.id === "CVE-2023-4911")!;
    expect(suppressed.suppressed).toBe("accepted-risk");

    // a redelivery of the same verdict writes nothing
    const before = await etags(tables);
    await writeFindings(tables, DIGEST, next);
    expect(await etags(tables)).toEqual(before);
  });

  it("splits a large set over rows under the property limit, and a smaller set after it leaves no stale rows", async () => {
    const tables = new SqliteTableStore(openLocalStore(":memory:"));
    const base = sampleReport().report;
    const template = base.findings[0]!;
    // 2,000 findings with long aliases, non-BMP characters included (a split must not cut a surrogate pair)
    const many = Array.from({ length: 2000 }, (_, i) => ({
      ...template,
      id: `CVE-2099-${String(i).padStart(5, "0")}`,
      aliases: [`GHSA-${"𝒳".repeat(7)}-${i}`, `ALIAS-${"x".repeat(40)}`],
    }));
    await writeFindings(tables, DIGEST, { ...base, findings: many });
    const rows = [];
    for await (const row of tables.query(TABLES.findings, { partitionKey: DIGEST })) rows.push(row);
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(String(row.properties.json).length).toBeLessThanOrEqual(32_000);
    const read = await readFindings(tables, DIGEST);
    expect(read.length).toBe(2000);
    expect(read[1999]!.aliases[0]).toBe(`GHSA-${"𝒳".repeat(7)}-1999`);

    await writeFindings(tables, DIGEST, base);
    expect((await etags(tables)).size).toBe(1);
    expect((await readFindings(tables, DIGEST)).map(keyOf).sort()).toEqual(keysOf(base.findings));
  });

  it("reads a row per finding as older verdicts wrote them, and replaces those rows at the next verdict", async () => {
    const tables = new SqliteTableStore(openLocalStore(":memory:"));
    const report = sampleReport().report;
    await tables.upsertMany(
      TABLES.findings,
      DIGEST,
      report.findings.map((f) => ({
        rowKey: `${f.id}|${f.package.name}|${f.package.version}`,
        properties: {
          id: f.id,
          aliases: JSON.stringify(f.aliases),
          package: f.package.name,
          version: f.package.version,
          ecosystem: f.package.ecosystem,
          fixedVersion: f.fixedVersion ?? "",
          severity: f.severity,
          tier: f.tier,
          suppressed: f.suppressed ? f.suppressed.kind : "",
          layer: f.layer,
        },
      })),
    );
    expect((await readFindings(tables, DIGEST)).map(keyOf).sort()).toEqual(keysOf(report.findings));
    await writeFindings(tables, DIGEST, report);
    expect([...(await etags(tables)).keys()]).toEqual(["part-0000"]);
    expect((await readFindings(tables, DIGEST)).map(keyOf).sort()).toEqual(keysOf(report.findings));
  });

  it("refuses a set whose parts do not belong together rather than read half of it", async () => {
    const tables = new SqliteTableStore(openLocalStore(":memory:"));
    const base = sampleReport().report;
    const many = Array.from({ length: 600 }, (_, i) => ({ ...base.findings[0]!, id: `CVE-2099-${i}` }));
    await writeFindings(tables, DIGEST, { ...base, findings: many });
    // a crash half-way through a rewrite on a store whose batches are not one transaction
    const second = await tables.get(TABLES.findings, DIGEST, "part-0001");
    await tables.upsert(TABLES.findings, DIGEST, "part-0001", { ...second!.properties, set: "another" });
    await expect(readFindings(tables, DIGEST)).rejects.toThrow(/incomplete/);
    expect(await readFindings(tables, `sha256:${"d".repeat(64)}`)).toEqual([]);
    // the verdict's redelivery finds its first part written and a later one not: it writes the set again
    await writeFindings(tables, DIGEST, { ...base, findings: many });
    expect((await readFindings(tables, DIGEST)).length).toBe(600);
  });
});
