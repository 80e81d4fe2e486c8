import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import type { OsvRecord } from "../../shared/vulndb/osv.js";
import { cvrfToOsv, fetchMsrcUpdates } from "../../shared/vulndb/msrc/index.js";
import { type MsrcServer, startMsrcServer } from "./support/msrc-server.js";
import { corpusPath } from "../support/corpus.js";

let server: MsrcServer;
beforeAll(async () => {
  server = await startMsrcServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.override.clear();
});

const affectedOf = (records: OsvRecord[], cve: string, name: string, introduced?: string) =>
  records
    .find((r) => r.id === `MSRC-${cve}`)
    ?.affected?.find(
      (a) =>
        a.package?.name === name &&
        (introduced === undefined || a.ranges?.[0]?.events[0]?.introduced === introduced),
    );

describe("MSRC CVRF v3 feed", () => {
  it("fetches the updates index, then every monthly document as JSON from the configured base", async () => {
    const result = await fetchMsrcUpdates({ baseUrl: server.baseUrl });
    expect(result.status).toBe("updated");
    if (result.status !== "updated") return;
    expect(result.documents.map((d) => d.DocumentTracking.Identification.ID.Value)).toEqual([
      "2016-Apr",
      "2024-Mar",
      "2025-Aug",
    ]);
    expect(server.requests.map((r) => r.path)).toEqual([
      "/cvrf/v3.0/updates",
      "/cvrf/v3.0/cvrf/2016-Apr",
      "/cvrf/v3.0/cvrf/2024-Mar",
      "/cvrf/v3.0/cvrf/2025-Aug",
    ]);
    expect(server.requests.every((r) => r.headers.accept === "application/json")).toBe(true);
    expect(Object.keys(result.fingerprint.documents ?? {})).toEqual(["2016-Apr", "2024-Mar", "2025-Aug"]);
  });

  it("asks again conditionally and gets 304 for an unchanged index", async () => {
    const first = await fetchMsrcUpdates({ baseUrl: server.baseUrl });
    server.requests.length = 0;
    const again = await fetchMsrcUpdates({ baseUrl: server.baseUrl, previous: first.fingerprint });
    expect(again.status).toBe("not-modified");
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers["if-none-match"]).toMatch(/^"[0-9a-f]{16}"$/);
  });

  it("skips months whose CurrentReleaseDate has not moved, and revalidates the others with If-None-Match", async () => {
    const first = await fetchMsrcUpdates({ baseUrl: server.baseUrl });
    const previous = structuredClone(first.fingerprint);
    delete previous.index;
    previous.documents!["2024-Mar"]!.currentReleaseDate = "2024-03-12T07:00:00Z";
    server.requests.length = 0;
    const result = await fetchMsrcUpdates({ baseUrl: server.baseUrl, previous });
    expect(result.status === "updated" && result.unchanged).toEqual(["2016-Apr", "2024-Mar", "2025-Aug"]);
    expect(server.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      "/cvrf/v3.0/updates 200",
      "/cvrf/v3.0/cvrf/2024-Mar 304",
    ]);
  });

  it("builds document URLs from the base, never from the index's CvrfUrl", async () => {
    const index = JSON.parse(
      readFileSync(fileURLToPath(new URL("../fixtures/windows/msrc/updates.json", import.meta.url)), "utf8"),
    );
    index.value = [{ ...index.value[1], CvrfUrl: "http://169.254.169.254/latest/meta-data" }];
    server.override.set("/cvrf/v3.0/updates", { status: 200, body: JSON.stringify(index) });
    const seen: string[] = [];
    await fetchMsrcUpdates({
      baseUrl: server.baseUrl,
      fetch: (url, init) => {
        seen.push(String(url));
        return fetch(url, init);
      },
    });
    expect(seen).toEqual([
      `${server.baseUrl}/cvrf/v3.0/updates`,
      `${server.baseUrl}/cvrf/v3.0/cvrf/2024-Mar`,
    ]);
  });

  it("limits a run to months released since a date", async () => {
    const result = await fetchMsrcUpdates({
      baseUrl: server.baseUrl,
      since: new Date("2024-01-01T00:00:00Z"),
    });
    expect(result.status === "updated" && result.documents.length).toBe(2);
  });

  it.each([
    [500, "msrc-feed-http", false],
    [429, "msrc-feed-http", false],
    [404, "msrc-feed-http", true],
  ])("treats HTTP %i as %s (permanent: %s)", async (status, code, permanent) => {
    server.override.set("/cvrf/v3.0/cvrf/2024-Mar", { status });
    const err = await fetchMsrcUpdates({ baseUrl: server.baseUrl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanError);
    expect(err).toMatchObject({ code, permanent });
  });

  it("rejects a body that is not the CVRF shape, or too large", async () => {
    server.override.set("/cvrf/v3.0/cvrf/2025-Aug", { status: 200, body: '{"hello":"world"}' });
    await expect(fetchMsrcUpdates({ baseUrl: server.baseUrl })).rejects.toMatchObject({
      code: "msrc-feed-malformed",
    });
    server.override.clear();
    await expect(fetchMsrcUpdates({ baseUrl: server.baseUrl, maxBytes: 50_000 })).rejects.toMatchObject({
      code: "msrc-feed-too-large",
    });
  });
});

describe("CVRF → OSV conversion", () => {
  let records: OsvRecord[];
  let stats: ReturnType<typeof cvrfToOsv>["stats"];
  beforeAll(async () => {
    const result = await fetchMsrcUpdates({ baseUrl: server.baseUrl });
    if (result.status !== "updated") throw new Error("expected documents");
    ({ records, stats } = cvrfToOsv(result.documents));
  });

  it("keys .NET 8.0 by the runtime packs, with KB, FixedBuild and MSRC severity (2024-Mar, CVE-2024-21392)", () => {
    const x64 = affectedOf(records, "CVE-2024-21392", "Microsoft.NETCore.App.Runtime.win-x64", "8.0.0");
    expect(x64).toMatchObject({
      package: { ecosystem: "NuGet", name: "Microsoft.NETCore.App.Runtime.win-x64" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "8.0.0" }, { fixed: "8.0.3" }] }],
      database_specific: {
        kb: "KB5036452",
        msrc_product: ".NET 8.0",
        severity: "Important",
        cvss_base_score: 7.5,
      },
    });
    expect(
      affectedOf(records, "CVE-2024-21392", "Microsoft.NETCore.App.Runtime.win-x86", "8.0.0")?.ranges?.[0]
        ?.events,
    ).toEqual([{ introduced: "8.0.0" }, { fixed: "8.0.3" }]);
    expect(affectedOf(records, "CVE-2024-21392", "Microsoft.NETCore.App.Runtime.win-arm64")).toBeDefined();
    const record = records.find((r) => r.id === "MSRC-CVE-2024-21392")!;
    expect(record.aliases).toEqual(["CVE-2024-21392"]);
    expect(record.modified).toBe("2024-04-09T07:00:00.000Z");
    expect(record.severity).toEqual([
      { type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:P/RL:O/RC:C" },
    ]);
  });

  it("keeps .NET 7.0 as its own line of the same runtime pack, with its own fix and KB", () => {
    const lines = records
      .find((r) => r.id === "MSRC-CVE-2024-21392")
      ?.affected?.filter((a) => a.package?.name === "Microsoft.NETCore.App.Runtime.win-x64")
      .map((a) => [a.ranges?.[0]?.events, a.database_specific?.kb]);
    expect(lines).toEqual([
      [[{ introduced: "7.0.0" }, { fixed: "7.0.17" }], "KB5036451"],
      [[{ introduced: "8.0.0" }, { fixed: "8.0.3" }], "KB5036452"],
    ]);
  });

  it("leaves out products it does not track and vendor fixes without a FixedBuild (2016-Apr KB-only fixes)", () => {
    expect(records.find((r) => r.id === "MSRC-CVE-2016-0088")).toBeUndefined();
    expect(stats.skipped["not-a-tracked-product"]).toBeGreaterThanOrEqual(4);
    expect(stats.skipped["no-fixed-build"]).toBeGreaterThan(0);
    expect(stats.invalid).toEqual([]);
  });

  it("carries every Windows Server 2022/2025 CVE → KB → fixed build of the August 2025 feed, per product", () => {
    type Row = { cve: string; patches: { os: string; kb: string; fixedBuild: string }[] };
    const feed = JSON.parse(
      readFileSync(corpusPath("msrc/windows-version-feed/CVE_KB_Mapping_2025-Aug.json"), "utf8"),
    ) as Row[];
    let checked = 0;
    for (const row of feed) {
      for (const patch of row.patches.filter((p) => /^Windows Server 202[25]$/.test(p.os))) {
        for (const product of [patch.os, `${patch.os} (Server Core installation)`]) {
          const affected = affectedOf(records, row.cve, product);
          expect(affected?.ranges?.[0]?.events, `${row.cve} ${product}`).toEqual([
            { introduced: "0" },
            { fixed: `10.0.${patch.fixedBuild}` },
          ]);
          expect(affected?.database_specific?.kb).toBe(patch.kb);
          checked++;
        }
      }
    }
    // 73 Windows Server 2022/2025 patches in the month, each a full and a Server Core product
    expect(checked).toBe(146);
    expect(
      affectedOf(records, "CVE-2025-49751", "Windows Server 2025 (Server Core installation)")
        ?.ecosystem_specific,
    ).toEqual({
      remediation:
        "rebuild on a base image with OS build ≥ 10.0.26100.4946 (KB5063878, e.g. mcr.microsoft.com/windows/servercore:ltsc2025 pulled after 2025-08-12)",
      base_image: "mcr.microsoft.com/windows/servercore:ltsc2025",
    });
    expect(affectedOf(records, "CVE-2025-49751", "Windows Server 2025")?.database_specific).toMatchObject({
      kb: "KB5063878",
      released: "2025-08-12",
    });
  });
});
