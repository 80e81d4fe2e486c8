import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchInventory } from "../../shared/matching/match.js";
import type { BlobStore } from "../../shared/ports/blob-store.js";
import { buildDbFromRecords, writeDbVersion } from "../../shared/vulndb/db-build.js";
import { dbKeys } from "../../shared/vulndb/db-format.js";
import { openDb, readPointer } from "../../shared/vulndb/db-read.js";
import { importRecords } from "../../shared/vulndb/db-update.js";
import { pkg } from "../matching/support/packages.js";
import { runCli } from "../support/cli.js";
import { ExportServer } from "./support/export-server.js";
import { fixtureRecord, fixtureRecords, osvCorpusPath } from "./support/fixture-records.js";
import { MemoryBlobStore } from "./support/memory-blob-store.js";
import { osvRecord } from "./support/records.js";
import { buildZip } from "./support/zip.js";

const quiet = () => {};

function manyNpmRecords(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    osvRecord(`GHSA-test-${String(i).padStart(4, "0")}`, "npm", `pkg-${i % 700}`, [
      { introduced: "0" },
      { fixed: `1.${i}.0` },
    ]),
  );
}

describe("compact DB", () => {
  it("loads only the shards a scan needs, and caches them per process", async () => {
    const store = new MemoryBlobStore();
    const { metadata } = await buildDbFromRecords(store, manyNpmRecords(3000));
    expect(metadata.ecosystems.npm).toMatchObject({ advisories: 3000, packages: 700, buckets: 8 });
    const gets: string[] = [];
    const counting: BlobStore = {
      get: (k) => {
        gets.push(k);
        return store.get(k);
      },
      put: (k, d) => store.put(k, d),
      has: (k) => store.has(k),
      delete: (k) => store.delete(k),
      list: (p) => store.list(p),
    };
    const db = (await openDb(counting))!;
    const ms = await matchInventory([pkg("npm", "pkg-7", "1.0.0")], db);
    expect(ms.length).toBeGreaterThan(0);
    expect(gets.filter((k) => k.includes("/shards/"))).toHaveLength(1);
    await matchInventory([pkg("npm", "pkg-7", "1.0.0")], (await openDb(counting))!);
    expect(gets.filter((k) => k.includes("/shards/"))).toHaveLength(1);
  });

  it("keeps release-suffixed ecosystems apart: a Debian:12 package sees only Debian:12 records", async () => {
    const store = new MemoryBlobStore();
    await buildDbFromRecords(store, [
      osvRecord("DEBIAN-CVE-2024-1", "Debian:12", "curl", [
        { introduced: "0" },
        { fixed: "7.88.1-10+deb12u6" },
      ]),
      osvRecord("DEBIAN-CVE-2024-2", "Debian:11", "curl", [
        { introduced: "0" },
        { fixed: "7.74.0-1.3+deb11u12" },
      ]),
    ]);
    const db = (await openDb(store))!;
    expect((await db.advisoriesFor("Debian:12", "curl")).map((e) => e.id)).toEqual(["DEBIAN-CVE-2024-1"]);
    expect(await db.advisoriesFor("Debian:13", "curl")).toEqual([]);
    expect(await db.advisoriesFor("Debian", "curl")).toEqual([]);
  });

  it("an update interrupted while writing shards leaves the previous DB current and readable", async () => {
    const store = new MemoryBlobStore();
    const { metadata: first } = await buildDbFromRecords(store, manyNpmRecords(100));
    let writes = 0;
    const failing: BlobStore = {
      get: (k) => store.get(k),
      has: (k) => store.has(k),
      delete: (k) => store.delete(k),
      list: (p) => store.list(p),
      put: async (k, d) => {
        if (++writes > 3) throw new Error("disk full");
        await store.put(k, d);
      },
    };
    await expect(buildDbFromRecords(failing, manyNpmRecords(2000))).rejects.toThrow(/disk full/);
    expect((await readPointer(store))!.version).toBe(first.version);
    const db = (await openDb(store))!;
    expect(db.metadata.ecosystems.npm!.advisories).toBe(100);
    expect(await matchInventory([pkg("npm", "pkg-1", "1.0.0")], db)).toHaveLength(1);
  });

  it("deletes versions no reader can be using once they are older than an hour", async () => {
    const store = new MemoryBlobStore();
    const at = (h: number) => new Date(Date.UTC(2025, 6, 1, h));
    const rebuilt = (n: number) =>
      new Map([
        [
          "npm",
          {
            packages: new Map([
              [
                "a",
                [
                  {
                    id: `X-${n}`,
                    aliases: [],
                    modified: "2024-01-01T00:00:00Z",
                    severity: "low" as const,
                    ranges: [],
                  },
                ],
              ],
            ]),
            feed: "npm",
          },
        ],
      ]);
    const v1 = await writeDbVersion(store, { rebuilt: rebuilt(1), now: at(0) });
    const v2 = await writeDbVersion(store, { previous: v1, rebuilt: rebuilt(2), now: at(2) });
    const v3 = await writeDbVersion(store, { previous: v2, rebuilt: rebuilt(3), now: at(4) });
    const versions = new Set([...store.blobs.keys()].map((k) => k.split("/")[1]));
    expect(versions).toEqual(new Set(["current.json", v2.version, v3.version]));
    expect(store.blobs.has(dbKeys.metadata(v1.version))).toBe(false);
  });
});

describe("db import", () => {
  it("imports a directory of JSON and PyPA YAML records, a zip, and a single file, merging by id", async () => {
    const store = new MemoryBlobStore();
    const dir = osvCorpusPath("pypi-pysec-yaml/flask");
    const first = await importRecords(store, dir, { log: quiet });
    expect(first.stats).toMatchObject({ records: 3, skipped: 0 });
    expect(first.metadata.ecosystems.PyPI!.advisories).toBe(3);

    const tmp = await mkdtemp(path.join(os.tmpdir(), "portcullis-import-"));
    try {
      const zip = path.join(tmp, "npm.zip");
      await writeFile(
        zip,
        buildZip(Object.fromEntries(fixtureRecords("ghsa").map((r) => [r.file, JSON.stringify(r.record)]))),
      );
      const second = await importRecords(store, zip, { log: quiet });
      expect(second.metadata.ecosystems.npm!.advisories).toBe(6);
      expect(second.metadata.ecosystems.PyPI!.advisories).toBe(3);
      expect(second.metadata.changes.packages).toContainEqual({
        ecosystem: "NuGet",
        name: "newtonsoft.json",
      });

      // the same id again, now withdrawn: its entries go
      const withdrawn = {
        ...fixtureRecord("ghsa/GHSA-5crp-9r3c-p9vr.json"),
        withdrawn: "2025-01-01T00:00:00Z",
      };
      const file = path.join(tmp, "withdrawn.json");
      await writeFile(file, JSON.stringify(withdrawn));
      const third = await importRecords(store, file, { log: quiet, now: new Date("2025-07-01T00:00:00Z") });
      expect(third.stats.withdrawn).toBe(1);
      expect(third.metadata.ecosystems.NuGet!.advisories).toBe(0);
      expect(third.metadata.changes).toMatchObject({
        since: second.metadata.version,
        packages: [{ ecosystem: "NuGet", name: "newtonsoft.json" }],
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("portcullis db (CLI)", () => {
  const server = new ExportServer();
  let cacheDir: string;
  beforeAll(async () => {
    await server.start();
    server.serve(
      "npm",
      buildZip(
        Object.fromEntries(
          fixtureRecords("ghsa").map((r) => [`${r.record.id}.json`, JSON.stringify(r.record)]),
        ),
      ),
    );
    server.serve(
      "Debian",
      buildZip({ "DSA-3029-1.json": JSON.stringify(fixtureRecord("debian/DSA-3029-1.json")) }),
    );
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-cache-"));
  });
  afterAll(async () => {
    await server.stop();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("updates from a mirror into the cache dir, reports status, and imports local records", async () => {
    const none = await runCli(["db", "status", "--cache-dir", cacheDir]);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/no vulnerability DB yet/);

    const up = await runCli([
      "db",
      "update",
      "--mirror",
      server.url,
      "--ecosystems",
      "npm,Debian",
      "--cache-dir",
      cacheDir,
    ]);
    expect(up.stderr).toMatch(/npm: 5 records, 0 withdrawn, 0 skipped/);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^updated: vulnerability DB \d{8}T/);

    const again = await runCli(["db", "update", "--mirror", server.url, "--ecosystems", "npm,Debian"], {
      env: { PORTCULLIS_CACHE_DIR: cacheDir },
    });
    expect(again.stdout).toMatch(/^up to date/);

    const imp = await runCli([
      "db",
      "import",
      osvCorpusPath("pypi-pysec-yaml/requests"),
      "--cache-dir",
      cacheDir,
    ]);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/imported 5 records/);

    const status = await runCli(["db", "status", "--cache-dir", cacheDir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Version: +\d{8}T/);
    expect(status.stdout).toMatch(/Debian:7 +1 +1/);
    expect(status.stdout).toMatch(/PyPI +5 +1/);
    const json = JSON.parse(
      (await runCli(["db", "status", "--format", "json", "--cache-dir", cacheDir])).stdout,
    );
    // the NuGet record served inside npm/all.zip is not the npm feed's to index
    expect(json.ecosystems.map((e: { ecosystem: string }) => e.ecosystem)).toEqual([
      "Debian:7",
      "npm",
      "PyPI",
    ]);
  });

  it("exits 2 on a bad mirror URL", async () => {
    const r = await runCli(["db", "update", "--mirror", "ftp://x", "--cache-dir", cacheDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an http\(s\) URL/);
  });
});
