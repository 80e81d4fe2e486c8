import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { dbKeys } from "../../shared/vulndb/db-format.js";
import { openDb, readPointer } from "../../shared/vulndb/db-read.js";
import { dbStatus, ensureDb, updateDb } from "../../shared/vulndb/db-update.js";
import { ExportServer } from "./support/export-server.js";
import { fixtureRecord, fixtureRecords } from "./support/fixture-records.js";
import { MemoryBlobStore } from "./support/memory-blob-store.js";
import { osvRecord } from "./support/records.js";
import { buildZip } from "./support/zip.js";

const FEEDS = ["Debian", "npm", "PyPI", "Go"];

function exportZip(records: Record<string, unknown>[]): Buffer {
  return buildZip(Object.fromEntries(records.map((r) => [`${r.id}.json`, JSON.stringify(r)])));
}

const debianRecords = () => [
  fixtureRecord("debian/DSA-3029-1.json"),
  osvRecord("DEBIAN-CVE-2024-0001", "Debian:12", "glibc", [{ introduced: "0" }, { fixed: "2.36-9+deb12u4" }]),
];
const npmRecords = () =>
  fixtureRecords("ghsa")
    .map((r) => r.record)
    .filter((r) => JSON.stringify(r).includes('"npm"'));
const pypiRecords = () => fixtureRecords("pypi-pysec-yaml/requests").map((r) => r.record);
const goRecords = () =>
  fixtureRecords("go")
    .map((r) => r.record)
    .slice(0, 20);

describe("db update from OSV exports", () => {
  const server = new ExportServer();
  let store: MemoryBlobStore;
  let tmpDir: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const update = (now = new Date("2025-07-01T12:00:00Z")) =>
    updateDb(store, { baseUrl: server.url, ecosystems: FEEDS, log, tmpDir, now });

  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(async () => {
    store = new MemoryBlobStore();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-feed-"));
    lines.length = 0;
    server.requests = [];
    server.serve("Debian", exportZip(debianRecords()));
    server.serve("npm", exportZip(npmRecords()));
    server.serve("PyPI", exportZip(pypiRecords()));
    server.serve("Go", exportZip(goRecords()));
  });
  afterEach(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });

  it("builds a DB keyed by full ecosystem names, with per-ecosystem counts and fingerprints", async () => {
    const { metadata, changed } = await update();
    expect(changed).toBe(true);
    expect(Object.keys(metadata.ecosystems).sort()).toEqual(["Debian:12", "Debian:7", "Go", "PyPI", "npm"]);
    expect(metadata.ecosystems["Debian:7"]).toMatchObject({ advisories: 1, packages: 1, feed: "Debian" });
    expect(metadata.ecosystems.npm).toMatchObject({ advisories: 6, packages: 3 }); // lodash, lodash-es, minimist
    expect(metadata.feeds.npm).toMatchObject({ url: `${server.url}/npm/all.zip`, records: 4, skipped: 0 });
    expect(metadata.feeds.npm!.etag).toMatch(/^"/);
    expect(metadata.changes).toEqual({ since: null, full: true, packages: [] });
    expect(await readPointer(store)).toEqual({
      version: metadata.version,
      checkedAt: "2025-07-01T12:00:00.000Z",
    });
    expect(store.blobs.has(dbKeys.shard(metadata.version, "Debian:12", 0))).toBe(true);
    expect([...store.blobs.keys()]).toContain(`vulndb/${metadata.version}/shards/Debian%3A12/0.json.gz`);
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it("costs nothing the second time: every feed answers 304 and only the checked time moves", async () => {
    const first = await update();
    server.requests = [];
    store.puts = 0;
    const second = await update(new Date("2025-07-02T12:00:00Z"));
    expect(second.changed).toBe(false);
    expect(server.requests.map((r) => r.status)).toEqual([304, 304, 304, 304]);
    expect(server.bytesSent).toBe(0);
    expect(store.puts).toBe(1);
    expect(await readPointer(store)).toEqual({
      version: first.metadata.version,
      checkedAt: "2025-07-02T12:00:00.000Z",
    });
  });

  it("re-fetches only the feed that changed and records the changed (ecosystem, package) pairs", async () => {
    const first = await update();
    server.requests = [];
    server.serve(
      "npm",
      exportZip([
        ...npmRecords(),
        osvRecord("GHSA-test-0001", "npm", "left-pad", [{ introduced: "0" }, { fixed: "1.3.0" }]),
      ]),
    );
    const second = await update(new Date("2025-07-02T12:00:00Z"));
    expect(server.requests.filter((r) => r.status === 200).map((r) => r.path)).toEqual(["/npm/all.zip"]);
    expect(second.metadata.changes).toEqual({
      since: first.metadata.version,
      full: false,
      packages: [{ ecosystem: "npm", name: "left-pad" }],
      // an advisory is no CVE rating: the rating feeds' changes are in rating-feeds.test.ts
      changedCves: [],
    });
    // unchanged ecosystems keep their shards where they are: nothing copied
    expect(second.metadata.ecosystems.Go!.shardVersion).toBe(first.metadata.version);
    expect(second.metadata.ecosystems.npm!.shardVersion).toBe(second.metadata.version);
    const db = await openDb(store);
    expect((await db!.advisoriesFor("npm", "left-pad")).map((e) => e.id)).toEqual(["GHSA-test-0001"]);
    expect((await db!.advisoriesFor("Go", "golang.org/x/text")).length).toBeGreaterThan(0);
  });

  it("fails clearly on a corrupt zip and leaves the previous DB current", async () => {
    const first = await update();
    server.serve("npm", Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(300, 7)]));
    const err = await update(new Date("2025-07-02T12:00:00Z")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanError);
    expect((err as ScanError).code).toBe("db-feed-corrupt");
    expect((await readPointer(store))!.version).toBe(first.metadata.version);
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it("skips and counts a record that fails the schema, importing the rest", async () => {
    server.serve(
      "npm",
      buildZip({
        ...Object.fromEntries(npmRecords().map((r) => [`${r.id}.json`, JSON.stringify(r)])),
        "BAD-1.json": JSON.stringify({ id: "BAD-1", modified: "yesterday" }),
        "BAD-2.json": "{ not json",
      }),
    );
    const { metadata } = await update();
    expect(metadata.feeds.npm).toMatchObject({ records: 4, skipped: 2 });
    expect(metadata.ecosystems.npm!.advisories).toBe(6);
    expect(lines.join("\n")).toMatch(/skipped BAD-1: modified/);
  });

  it("ignores withdrawn records", async () => {
    server.serve(
      "npm",
      exportZip([
        osvRecord("GHSA-gone-0001", "npm", "left-pad", [{ introduced: "0" }], {
          withdrawn: "2024-07-01T00:00:00Z",
        }),
        ...npmRecords(),
      ]),
    );
    const { metadata } = await update();
    expect(metadata.feeds.npm).toMatchObject({ records: 4, withdrawn: 1 });
    expect(await (await openDb(store))!.advisoriesFor("npm", "left-pad")).toEqual([]);
  });

  it("keeps the previous DB when the download is cut off mid-body, and leaves no half-written DB", async () => {
    const first = await update();
    const keysBefore = [...store.blobs.keys()].sort();
    server.serve(
      "PyPI",
      exportZip([...pypiRecords(), ...fixtureRecords("pypi-pysec-yaml/flask").map((r) => r.record)]),
      {
        cutShort: true,
      },
    );
    const err = await update(new Date("2025-07-02T12:00:00Z")).catch((e: unknown) => e);
    expect((err as ScanError).code).toBe("db-feed-interrupted");
    expect(await readPointer(store)).toEqual({
      version: first.metadata.version,
      checkedAt: "2025-07-01T12:00:00.000Z",
    });
    expect([...store.blobs.keys()].sort()).toEqual(keysBefore);
    expect(await readdir(tmpDir)).toEqual([]);
  });

  it("says which feed is missing on a 404", async () => {
    const err = await updateDb(store, { baseUrl: server.url, ecosystems: ["RubyGems"], log, tmpDir }).catch(
      (e) => e,
    );
    expect((err as ScanError).message).toMatch(/RubyGems\/all\.zip failed: HTTP 404/);
    expect(await readPointer(store)).toBeUndefined();
  });

  it("ensureDb downloads a missing DB, refreshes a stale one and says so, and stays put when offline", async () => {
    await expect(ensureDb(store, { offline: true, log })).rejects.toThrow(/no vulnerability DB/);
    const opts = { baseUrl: server.url, ecosystems: FEEDS, log, tmpDir };
    const db = await ensureDb(store, { ...opts, now: new Date("2025-07-01T12:00:00Z") });
    expect(lines.some((l) => /not found; downloading/.test(l))).toBe(true);
    expect(db.metadata.ecosystems.npm).toBeDefined();
    server.requests = [];
    await ensureDb(store, { ...opts, now: new Date("2025-07-01T18:00:00Z") });
    expect(server.requests).toEqual([]);
    await ensureDb(store, { ...opts, offline: true, now: new Date("2025-07-09T12:00:00Z") });
    expect(server.requests).toEqual([]);
    await ensureDb(store, { ...opts, now: new Date("2025-07-03T12:00:00Z") });
    expect(lines.some((l) => /is 2 days old; updating/.test(l))).toBe(true);
    expect(server.requests.map((r) => r.status)).toEqual([304, 304, 304, 304]);
    const status = await dbStatus(store, new Date("2025-07-03T12:00:00Z"));
    expect(status?.checkedAt).toBe("2025-07-03T12:00:00.000Z");
    expect(status?.ecosystems.find((e) => e.ecosystem === "PyPI")).toEqual({
      ecosystem: "PyPI",
      advisories: 5,
      packages: 1,
    });
  });
});
