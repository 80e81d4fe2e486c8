import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveFeedOptions } from "../../shared/cli/commands/db.js";
import { readSettings } from "../../shared/composition/settings.js";
import { ScanError } from "../../shared/model/errors.js";
import { dbKeys } from "../../shared/vulndb/db-format.js";
import { openDb, readPointer } from "../../shared/vulndb/db-read.js";
import { type UpdateOptions, updateDb } from "../../shared/vulndb/db-update.js";
import { runCli } from "../support/cli.js";
import { type MsrcServer, startMsrcServer } from "../windows/support/msrc-server.js";
import { ExportServer } from "./support/export-server.js";
import { MemoryBlobStore } from "./support/memory-blob-store.js";
import { osvRecord } from "./support/records.js";
import { buildZip } from "./support/zip.js";
import { DEFAULT_DEBIAN_TRACKER_URL } from "../../shared/vulndb/debian-tracker/tracker-feed.js";
import { DEFAULT_NVD_URL } from "../../shared/vulndb/nvd/nvd-feed.js";

const SERVER_CORE_2025 = "Windows Server 2025 (Server Core installation)";
const RUNTIME_PACK = "Microsoft.NETCore.App.Runtime.win-x64";
const MONTHS = ["2016-Apr", "2024-Mar", "2025-Aug"];

const fixture = (name: string) =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../fixtures/windows/msrc/${name}`, import.meta.url)), "utf8"),
  ) as Record<string, unknown> & { value: Record<string, unknown>[] };

/** A September month in the real shape: one new CVE fixed in Server 2025 Server Core by a later build. */
function septemberDocument(): string {
  const date = "2025-09-09T07:00:00Z";
  return JSON.stringify({
    DocumentTitle: { Value: "September 2025 Security Updates" },
    DocumentTracking: {
      Identification: { ID: { Value: "2025-Sep" }, Alias: { Value: "2025-Sep" } },
      InitialReleaseDate: date,
      CurrentReleaseDate: date,
    },
    ProductTree: { FullProductName: [{ ProductID: "90011", Value: SERVER_CORE_2025 }] },
    Vulnerability: [
      {
        Title: { Value: "Windows Test Component Elevation of Privilege Vulnerability" },
        CVE: "CVE-2025-90001",
        Threats: [{ Type: 3, Description: { Value: "Important" }, ProductID: ["90011"] }],
        CVSSScoreSets: [{ BaseScore: 7.8, ProductID: ["90011"] }],
        Notes: [{ Title: "Description", Value: "x".repeat(10_000) }],
        Remediations: [
          {
            Type: 2,
            Description: { Value: "5065426" },
            SubType: "Security Update",
            FixedBuild: "10.0.26100.6584",
            ProductID: ["90011"],
          },
        ],
      },
    ],
  });
}

function indexWith(extra: Record<string, unknown>[]): string {
  const index = fixture("updates.json");
  return JSON.stringify({ ...index, value: [...index.value, ...extra] });
}

const SEPTEMBER_ENTRY = {
  ID: "2025-Sep",
  Alias: "2025-Sep",
  DocumentTitle: "September 2025 Security Updates",
  InitialReleaseDate: "2025-09-09T07:00:00Z",
  CurrentReleaseDate: "2025-09-09T07:00:00Z",
};

describe("db update with the MSRC CVRF feed", () => {
  let msrc: MsrcServer;
  const osv = new ExportServer();
  let store: MemoryBlobStore;
  let tmpDir: string;
  const lines: string[] = [];
  const update = (ecosystems: string[], day = 1, extra: Partial<UpdateOptions> = {}) =>
    updateDb(store, {
      baseUrl: osv.url,
      msrcUrl: msrc.baseUrl,
      ecosystems,
      log: (l) => lines.push(l),
      tmpDir,
      now: new Date(Date.UTC(2025, 8, day, 12)),
      ...extra,
    });
  const ids = async (ecosystem: string, name: string) =>
    (await (await openDb(store))!.advisoriesFor(ecosystem, name)).map((e) => e.id).sort();

  beforeAll(async () => {
    msrc = await startMsrcServer();
    await osv.start();
  });
  afterAll(async () => {
    await msrc.close();
    await osv.stop();
  });
  beforeEach(async () => {
    store = new MemoryBlobStore();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-msrc-"));
    lines.length = 0;
    msrc.requests.length = 0;
    msrc.override.clear();
    msrc.published.clear();
    osv.requests = [];
    osv.serve(
      "NuGet",
      buildZip({
        "GHSA-nuget-0001.json": JSON.stringify(
          osvRecord("GHSA-nuget-0001", "NuGet", RUNTIME_PACK, [{ introduced: "8.0.0" }, { fixed: "8.0.1" }]),
        ),
      }),
    );
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  it("first update: the index and every month, into Windows and NuGet, with the months' fingerprints", async () => {
    const { metadata, changed } = await update(["MSRC"]);
    expect(changed).toBe(true);
    expect(msrc.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      "/cvrf/v3.0/updates 200",
      ...MONTHS.map((m) => `/cvrf/v3.0/cvrf/${m} 200`),
    ]);
    expect(metadata.ecosystems.Windows).toMatchObject({ feed: "MSRC", feeds: ["MSRC"] });
    expect(metadata.ecosystems.NuGet).toMatchObject({ feed: "MSRC", feeds: ["MSRC"] });
    const feed = metadata.feeds.MSRC!;
    expect(feed.url).toBe(`${msrc.baseUrl}/cvrf/v3.0/updates`);
    expect(feed.etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(Object.keys(feed.documents ?? {})).toEqual(MONTHS);
    for (const [month, doc] of Object.entries(feed.documents!)) {
      expect(doc.etag).toMatch(/^"/);
      expect(store.blobs.has(dbKeys.feedDocument(doc.storedIn, "MSRC", month))).toBe(true);
    }
    expect(await ids("Windows", SERVER_CORE_2025)).toContain("MSRC-CVE-2025-49751");
    expect(await ids("NuGet", RUNTIME_PACK)).toEqual(["MSRC-CVE-2024-21392"]);
    expect(lines.join("\n")).toMatch(/MSRC: \d+ records.*3 of 3 months fetched/);
  });

  it("an unchanged MSRC costs one conditional request and no month, and only re-stamps the DB", async () => {
    const first = await update(["MSRC"]);
    msrc.requests.length = 0;
    store.puts = 0;
    const second = await update(["MSRC"], 2);
    expect(second.changed).toBe(false);
    expect(msrc.requests.map((r) => `${r.path} ${r.status}`)).toEqual(["/cvrf/v3.0/updates 304"]);
    expect(msrc.requests[0]!.headers["if-none-match"]).toBe(first.metadata.feeds.MSRC!.etag);
    expect(store.puts).toBe(1);
    expect((await readPointer(store))!.version).toBe(first.metadata.version);
  });

  it("a new month is the only document fetched; the stored months still count", async () => {
    const first = await update(["MSRC"]);
    msrc.requests.length = 0;
    msrc.published.set("/cvrf/v3.0/updates", indexWith([SEPTEMBER_ENTRY]));
    msrc.published.set("/cvrf/v3.0/cvrf/2025-Sep", septemberDocument());
    const second = await update(["MSRC"], 10);
    expect(second.changed).toBe(true);
    expect(msrc.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      "/cvrf/v3.0/updates 200",
      "/cvrf/v3.0/cvrf/2025-Sep 200",
    ]);
    expect(second.metadata.changes.packages).toEqual([{ ecosystem: "Windows", name: SERVER_CORE_2025 }]);
    const windows = await (await openDb(store))!.advisoriesFor("Windows", SERVER_CORE_2025);
    expect(windows.find((e) => e.id === "MSRC-CVE-2025-90001")).toMatchObject({
      ranges: [
        {
          events: [
            ["introduced", "0"],
            ["fixed", "10.0.26100.6584"],
          ],
        },
      ],
      remediationHint: { kb: "KB5065426" },
    });
    // the months not fetched again come from their stored copies
    expect(windows.map((e) => e.id)).toContain("MSRC-CVE-2025-49751");
    expect(await ids("NuGet", RUNTIME_PACK)).toEqual(["MSRC-CVE-2024-21392"]);
    const docs = second.metadata.feeds.MSRC!.documents!;
    expect(docs["2025-Aug"]!.storedIn).toBe(first.metadata.feeds.MSRC!.documents!["2025-Aug"]!.storedIn);
    // the stored month keeps what conversion reads, not the notes
    const stored = store.blobs.get(dbKeys.feedDocument(docs["2025-Sep"]!.storedIn, "MSRC", "2025-Sep"))!;
    expect(stored.length).toBeLessThan(2_000);

    msrc.requests.length = 0;
    const third = await update(["MSRC"], 11);
    expect(third.changed).toBe(false);
    expect(msrc.requests.map((r) => `${r.path} ${r.status}`)).toEqual(["/cvrf/v3.0/updates 304"]);
  });

  it("a malformed month fails with the URL and the reason, and the previous DB stays current", async () => {
    const first = await update(["MSRC"]);
    const keysBefore = [...store.blobs.keys()].sort();
    msrc.published.set("/cvrf/v3.0/updates", indexWith([SEPTEMBER_ENTRY]));
    msrc.published.set("/cvrf/v3.0/cvrf/2025-Sep", JSON.stringify({ DocumentTitle: { Value: "Sep" } }));
    const err = await update(["MSRC"], 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanError);
    expect((err as ScanError).code).toBe("msrc-feed-malformed");
    expect((err as ScanError).message).toContain(
      `${msrc.baseUrl}/cvrf/v3.0/cvrf/2025-Sep is not the CVRF shape`,
    );
    expect((await readPointer(store))!.version).toBe(first.metadata.version);
    expect([...store.blobs.keys()].sort()).toEqual(keysBefore);

    msrc.published.set("/cvrf/v3.0/cvrf/2025-Sep", "<html>maintenance</html>");
    const notJson = await update(["MSRC"], 10).catch((e: unknown) => e);
    expect((notJson as ScanError).message).toMatch(/2025-Sep did not return JSON/);
    expect((await readPointer(store))!.version).toBe(first.metadata.version);
  });

  it("an OSV NuGet update leaves MSRC's runtime-pack entries alone, and an MSRC update the OSV ones", async () => {
    const first = await update(["NuGet", "MSRC"]);
    expect(first.metadata.ecosystems.NuGet!.feeds).toEqual(["MSRC", "NuGet"]);
    expect(await ids("NuGet", RUNTIME_PACK)).toEqual(["GHSA-nuget-0001", "MSRC-CVE-2024-21392"]);

    osv.serve(
      "NuGet",
      buildZip({
        "GHSA-nuget-0002.json": JSON.stringify(
          osvRecord("GHSA-nuget-0002", "NuGet", RUNTIME_PACK, [{ introduced: "8.0.0" }, { fixed: "8.0.2" }]),
        ),
      }),
    );
    const second = await update(["NuGet", "MSRC"], 2);
    expect(msrc.requests.at(-1)).toMatchObject({ path: "/cvrf/v3.0/updates", status: 304 });
    expect(await ids("NuGet", RUNTIME_PACK)).toEqual(["GHSA-nuget-0002", "MSRC-CVE-2024-21392"]);
    expect(second.metadata.ecosystems.Windows!.shardVersion).toBe(first.metadata.version);

    msrc.published.set("/cvrf/v3.0/updates", indexWith([SEPTEMBER_ENTRY]));
    msrc.published.set("/cvrf/v3.0/cvrf/2025-Sep", septemberDocument());
    await update(["NuGet", "MSRC"], 10);
    expect(await ids("NuGet", RUNTIME_PACK)).toEqual(["GHSA-nuget-0002", "MSRC-CVE-2024-21392"]);
  });

  it("MSRC left out of the feeds is not asked at all", async () => {
    await update(["NuGet"]);
    expect(msrc.requests).toEqual([]);
  });

  it("the CLI: --msrc-url, MSRC in --ecosystems, --no-msrc, --mirror's /msrc, and db status's months", async () => {
    expect(resolveFeedOptions({ mirror: "http://127.0.0.1:1/mirror/" })).toMatchObject({
      baseUrl: "http://127.0.0.1:1/mirror/",
      msrcUrl: "http://127.0.0.1:1/mirror/msrc",
    });
    expect(resolveFeedOptions({ msrc: false }).ecosystems).not.toContain("MSRC");
    expect(resolveFeedOptions({ ecosystems: "npm,msrc" }).ecosystems).toEqual(["npm", "MSRC"]);

    const cacheDir = path.join(tmpDir, "cache");
    const up = await runCli([
      "db",
      "update",
      "--msrc-url",
      msrc.baseUrl,
      "--ecosystems",
      "MSRC",
      "--cache-dir",
      cacheDir,
    ]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^updated: vulnerability DB/);
    const status = await runCli(["db", "status", "--cache-dir", cacheDir]);
    expect(status.stdout).toMatch(/^Windows +\d+ +\d+$/m);
    expect(status.stdout).toMatch(/^MSRC +\d+ +\S+ +3 months 2016-Apr\.\.2025-Aug +etag "/m);
  });

  it("takes the feeds and their URLs from the app settings serve reads, flags winning", () => {
    const settings = readSettings({
      PORTCULLIS_DB_URL: "http://127.0.0.1:1/osv",
      PORTCULLIS_MSRC_URL: "http://127.0.0.1:1/msrc",
      PORTCULLIS_CVE_URL: "http://127.0.0.1:1/cve/cvelistV5.zip",
      PORTCULLIS_DB_ECOSYSTEMS: "npm, msrc",
    });
    expect(resolveFeedOptions({}, settings)).toEqual({
      baseUrl: "http://127.0.0.1:1/osv",
      msrcUrl: "http://127.0.0.1:1/msrc",
      cveUrl: "http://127.0.0.1:1/cve/cvelistV5.zip",
      nvdUrl: DEFAULT_NVD_URL,
      debianTrackerUrl: DEFAULT_DEBIAN_TRACKER_URL,
      ecosystems: ["npm", "MSRC"],
    });
    expect(resolveFeedOptions({ mirror: "http://127.0.0.1:3" }, settings).cveUrl).toBe(
      "http://127.0.0.1:3/cve/cvelistV5.zip",
    );
    expect(resolveFeedOptions({ msrc: false }, settings).ecosystems).toEqual(["npm"]);
    expect(resolveFeedOptions({ ecosystems: "PyPI", dbUrl: "http://127.0.0.1:2/" }, settings)).toMatchObject({
      baseUrl: "http://127.0.0.1:2/",
      ecosystems: ["PyPI"],
    });
  });

  it("db update honours PORTCULLIS_DB_ECOSYSTEMS and PORTCULLIS_MSRC_URL like serve does", async () => {
    const cacheDir = path.join(tmpDir, "cache");
    // an OSV base nothing listens on: asking it for any feed would fail the update
    const up = await runCli(["db", "update", "--cache-dir", cacheDir], {
      env: {
        PORTCULLIS_DB_ECOSYSTEMS: "MSRC",
        PORTCULLIS_MSRC_URL: msrc.baseUrl,
        PORTCULLIS_DB_URL: "http://127.0.0.1:9/unused",
      },
    });
    expect(up.code, up.stderr).toBe(0);
    expect(msrc.requests.map((r) => r.path)).toContain("/cvrf/v3.0/updates");
    const status = await runCli(["db", "status", "--format", "json", "--cache-dir", cacheDir]);
    expect(Object.keys(JSON.parse(status.stdout).feeds)).toEqual(["MSRC"]);
  });
});
