import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveFeedOptions } from "../../shared/cli/commands/db.js";
import { readSettings } from "../../shared/composition/settings.js";
import { matchInventory } from "../../shared/matching/match.js";
import { decide } from "../../shared/policy/decide.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { importRecords, type UpdateOptions, updateDb } from "../../shared/vulndb/db-update.js";
import { NVD_FIRST_YEAR } from "../../shared/vulndb/nvd/nvd-feed.js";
import { pkg } from "../matching/support/packages.js";
import { corpusPath } from "../support/corpus.js";
import { ExportServer } from "./support/export-server.js";
import { MemoryBlobStore } from "./support/memory-blob-store.js";
import {
  type NvdMetricSpec,
  nvdDocument,
  nvdItem,
  type TrackerReleases,
  trackerDocument,
} from "./support/rating-feeds.js";
import { osvRecord } from "./support/records.js";
import { buildZip } from "./support/zip.js";

const V31_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"; // 7.5
const V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
const V31_MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"; // 4.8

const NOW = new Date("2025-07-01T12:00:00Z");

// Debian's records carry no rating: the real DSA (nginx, wheezy) and DEBIAN-CVE records for bookworm
const debianRecords = () => [
  JSON.parse(readFileSync(corpusPath("osv/debian/DSA-3029-1.json"), "utf8")) as Record<string, unknown>,
  osvRecord("DEBIAN-CVE-2024-1001", "Debian:12", "glibc", [{ introduced: "0" }, { fixed: "2.36-9+deb12u4" }]),
  osvRecord("DEBIAN-CVE-2024-1002", "Debian:12", "zlib", [{ introduced: "0" }, { fixed: "1:1.2.13.dfsg-2" }]),
  osvRecord("DEBIAN-CVE-2024-1003", "Debian:12", "tar", [{ introduced: "0" }, { fixed: "1.34+dfsg-1.3" }]),
  osvRecord("DEBIAN-CVE-2024-1004", "Debian:12", "curl", [
    { introduced: "0" },
    { fixed: "7.88.1-10+deb12u9" },
  ]),
  // a DSA as OSV publishes them since schema 1.7: its CVEs under `upstream`, not `aliases`
  osvRecord("DSA-5999-1", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.15-1~deb12u1" }], {
    upstream: ["CVE-2024-1005"],
  }),
];
const packages = [
  pkg("Debian:7", "nginx-full", "1.2.1-2.2+wheezy2", { name: "nginx", version: "1.2.1-2.2+wheezy2" }),
  pkg("Debian:12", "libc6", "2.36-9+deb12u3", { name: "glibc", version: "2.36-9+deb12u3" }),
  pkg("Debian:12", "zlib1g", "1:1.2.13.dfsg-1", { name: "zlib", version: "1:1.2.13.dfsg-1" }),
  pkg("Debian:12", "tar", "1.34+dfsg-1.2", { name: "tar", version: "1.34+dfsg-1.2" }),
  pkg("Debian:12", "libcurl4", "7.88.1-10+deb12u8", { name: "curl", version: "7.88.1-10+deb12u8" }),
  pkg("Debian:12", "libssl3", "3.0.14-1~deb12u2", { name: "openssl", version: "3.0.14-1~deb12u2" }),
];

const tracker = (overrides: Record<string, Record<string, TrackerReleases>> = {}) =>
  trackerDocument({
    nginx: {
      "CVE-2014-3616": {
        wheezy: { status: "resolved", urgency: "medium", fixed_version: "1.2.1-2.2+wheezy3" },
      },
    },
    // the tracker names the source package; its bookworm urgency is what rates the libc6 finding
    glibc: {
      "CVE-2024-1001": {
        bookworm: { status: "resolved", urgency: "low", fixed_version: "2.36-9+deb12u4" },
        bullseye: { status: "open", urgency: "high" },
      },
    },
    openssl: {
      "CVE-2024-1005": {
        bookworm: { status: "resolved", urgency: "high", fixed_version: "3.0.15-1~deb12u1" },
      },
    },
    zlib: {
      "CVE-2024-1002": {
        bookworm: { status: "resolved", urgency: "not yet assigned", fixed_version: "1:1.2.13.dfsg-2" },
      },
    },
    ...overrides,
  });

const primary = (vector: string, score: number): NvdMetricSpec => ({
  version: "3.1",
  type: "Primary",
  vector,
  score,
});
const nvdItems = (): Record<number, unknown[]> => ({
  // NVD's first file holds the ids of 1999–2001 too
  2002: [
    nvdItem("CVE-1999-0001", [
      { version: "2.0", type: "Primary", vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", score: 7.5 },
    ]),
  ],
  2014: [nvdItem("CVE-2014-3616", [primary(V31_CRITICAL, 9.8)])],
  2024: [
    nvdItem("CVE-2024-1001", [primary(V31_CRITICAL, 9.8)]),
    nvdItem("CVE-2024-1002", [primary(V31_HIGH, 7.5)]),
    nvdItem("CVE-2024-1004", [primary(V31_MEDIUM, 4.8)]),
  ],
});

describe("NVD and the Debian tracker, mirrored like the OSV exports, rate what Debian leaves unrated", () => {
  const server = new ExportServer();
  let tmpDir: string;
  beforeAll(async () => {
    await server.start();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-ratings-"));
  });
  afterAll(async () => {
    await server.stop();
    await rm(tmpDir, { recursive: true, force: true });
  });

  /** Serves a mirror: the Debian export, the tracker's JSON, and one NVD file per year (most empty). */
  const serveMirror = (items: Record<number, unknown[]>, trackerDoc: unknown) => {
    server.exports.clear();
    server.serve(
      "Debian",
      buildZip(Object.fromEntries(debianRecords().map((r) => [`${r.id}.json`, JSON.stringify(r)]))),
    );
    server.exports.set("/debian-tracker/json", { body: Buffer.from(JSON.stringify(trackerDoc)) });
    for (let year = NVD_FIRST_YEAR; year <= NOW.getUTCFullYear(); year++)
      server.exports.set(`/nvd/nvdcve-2.0-${year}.json.gz`, {
        body: gzipSync(JSON.stringify(nvdDocument(items[year] ?? []))),
      });
  };
  beforeEach(() => {
    server.requests = [];
    serveMirror(nvdItems(), tracker());
  });

  const update = (store: MemoryBlobStore, extra: Partial<UpdateOptions> = {}) => {
    const feeds = resolveFeedOptions(
      { mirror: server.url, ecosystems: "Debian,NVD,Debian-tracker" },
      readSettings({}),
    );
    return updateDb(store, { ...feeds, tmpDir, log: () => {}, now: NOW, ...extra });
  };
  const findings = async (store: MemoryBlobStore) =>
    Object.fromEntries((await matchInventory(packages, (await openDb(store))!)).map((m) => [m.id, m]));

  it("each finding takes the best rating there is and says which; the verdict follows", async () => {
    const store = new MemoryBlobStore();
    await update(store);
    const byId = await findings(store);
    // the tracker's urgency is the distribution's rating: it outranks NVD's CVSS, which stays beside it
    expect(byId["CVE-2014-3616"]).toMatchObject({ severity: "medium", severitySource: "distribution" });
    expect(byId["CVE-2024-1001"]).toMatchObject({
      severity: "low",
      severitySource: "distribution",
      package: { name: "libc6" },
    });
    // "not yet assigned" rates nothing: NVD's own CVSS does
    expect(byId["CVE-2024-1002"]).toMatchObject({
      severity: "high",
      severitySource: "nvd",
      cvss: { vector: V31_HIGH, score: 7.5 },
    });
    expect(byId["CVE-2024-1004"]).toMatchObject({ severity: "medium", severitySource: "nvd" });
    // the DSA is named by its upstream CVE, and rated by the tracker through it
    expect(byId["DSA-5999-1"]).toMatchObject({
      aliases: ["CVE-2024-1005"],
      severity: "high",
      severitySource: "distribution",
    });
    // nothing rates it anywhere: unknown, and said so
    expect(byId["CVE-2024-1003"]).toMatchObject({ severity: "unknown", severitySource: "none" });

    const decision = decide(Object.values(byId), DEFAULT_POLICY, { repository: "library/debian" });
    expect(decision.verdict.decision).toBe("block");
    expect(decision.verdict.reasons[0]).toContain("CVE-2024-1002");
    // unknown with a fix is work, deliberately (docs/policy.md): fix, not a silent report
    const tierOf = (id: string) => decision.findings.find((f) => f.id === id)?.tier;
    expect([tierOf("CVE-2024-1003"), tierOf("CVE-2024-1001"), tierOf("CVE-2024-1002")]).toEqual([
      "fix",
      "report",
      "block",
    ]);
    expect(decision.verdict.reasons.join("\n")).toContain("CVE-2024-1003");
  });

  it("the next run costs one 304 per document; a changed rating is reported in changedCves, and unchanged years keep theirs", async () => {
    const store = new MemoryBlobStore();
    await update(store);
    server.requests = [];
    const second = await update(store);
    expect(second.changed).toBe(false);
    expect(second.feeds.map((f) => [f.feed, f.status])).toEqual([
      ["Debian", "unchanged"],
      ["NVD", "unchanged"],
      ["Debian-tracker", "unchanged"],
    ]);
    expect(server.requests.every((r) => r.status === 304)).toBe(true);
    expect(server.requests).toHaveLength(2 + (NOW.getUTCFullYear() - NVD_FIRST_YEAR + 1));

    // NVD re-rates CVE-2024-1004 and touches CVE-2024-1002's record without re-rating it; the tracker
    // raises zlib's urgency; 2014's file does not change; CVE-1999-0001 leaves the 2002 file
    const items = nvdItems();
    items[2002] = [];
    items[2024] = [
      nvdItem("CVE-2024-1001", [primary(V31_CRITICAL, 9.8)]),
      nvdItem("CVE-2024-1002", [primary(V31_HIGH, 7.5)], { lastModified: "2025-06-30T00:00:00.000" }),
      nvdItem("CVE-2024-1004", [primary(V31_CRITICAL, 9.8)]),
    ];
    serveMirror(
      items,
      tracker({ zlib: { "CVE-2024-1002": { bookworm: { status: "open", urgency: "high" } } } }),
    );
    server.requests = [];
    const third = await update(store);
    expect(third.changed).toBe(true);
    expect(third.metadata.changes.changedCves).toEqual(["CVE-1999-0001", "CVE-2024-1002", "CVE-2024-1004"]);
    // only the changed year was downloaded
    expect(server.requests.filter((r) => r.status === 200).map((r) => r.path)).toEqual([
      "/nvd/nvdcve-2.0-2002.json.gz",
      "/nvd/nvdcve-2.0-2024.json.gz",
      "/debian-tracker/json",
    ]);
    const byId = await findings(store);
    expect(byId["CVE-2024-1004"]).toMatchObject({ severity: "critical", severitySource: "nvd" });
    expect(byId["CVE-2024-1002"]).toMatchObject({ severity: "high", severitySource: "distribution" });
    // 2014 answered 304: its rating is carried over (the tracker still outranks it)
    const status = (await openDb(store))!;
    expect(status.metadata.ecosystems.NVD?.packages).toBe(4);
  });

  it("a broken document fails the update and leaves the previous DB current", async () => {
    const store = new MemoryBlobStore();
    const first = await update(store);
    server.exports.set("/debian-tracker/json", {
      body: Buffer.from('{"glibc": {"CVE-2024-1001": {"releases": {'),
    });
    await expect(update(store, { now: new Date("2025-07-02T12:00:00Z") })).rejects.toMatchObject({
      code: "db-feed-corrupt",
    });
    expect((await openDb(store))!.metadata.version).toBe(first.metadata.version);
  });

  it("db import reads NVD's year files and the tracker's JSON beside OSV records (the air-gapped path)", async () => {
    const dir = path.join(tmpDir, "import");
    await mkdir(path.join(dir, "nvd"), { recursive: true });
    await mkdir(path.join(dir, "debian-tracker"), { recursive: true });
    for (const r of debianRecords()) await writeFile(path.join(dir, `${r.id}.json`), JSON.stringify(r));
    for (const [year, items] of Object.entries(nvdItems()))
      await writeFile(
        path.join(dir, "nvd", `nvdcve-2.0-${year}.json.gz`),
        gzipSync(JSON.stringify(nvdDocument(items))),
      );
    await writeFile(path.join(dir, "debian-tracker", "json"), JSON.stringify(tracker()));
    const store = new MemoryBlobStore();
    await importRecords(store, dir, { log: () => {} });
    const byId = await findings(store);
    expect(byId["CVE-2024-1001"]).toMatchObject({ severity: "low", severitySource: "distribution" });
    expect(byId["CVE-2024-1002"]).toMatchObject({ severity: "high", severitySource: "nvd" });
  });

  it("--mirror implies /nvd and /debian-tracker/json; flags and settings name them otherwise", () => {
    expect(resolveFeedOptions({ mirror: "http://127.0.0.1:1/m/" }, readSettings({}))).toMatchObject({
      nvdUrl: "http://127.0.0.1:1/m/nvd",
      debianTrackerUrl: "http://127.0.0.1:1/m/debian-tracker/json",
    });
    const settings = readSettings({
      PORTCULLIS_NVD_URL: "http://127.0.0.1:1/nvd-feeds",
      PORTCULLIS_DEBIAN_TRACKER_URL: "http://127.0.0.1:1/tracker.json",
    });
    expect(resolveFeedOptions({}, settings)).toMatchObject({
      nvdUrl: "http://127.0.0.1:1/nvd-feeds",
      debianTrackerUrl: "http://127.0.0.1:1/tracker.json",
      ecosystems: expect.arrayContaining(["CVE", "NVD", "Debian-tracker"]),
    });
    expect(resolveFeedOptions({ nvdUrl: "http://127.0.0.1:2/n" }, settings).nvdUrl).toBe(
      "http://127.0.0.1:2/n",
    );
  });
});
