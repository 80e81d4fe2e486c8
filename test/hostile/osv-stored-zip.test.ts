import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { readPointer } from "../../shared/vulndb/db-read.js";
import { importRecords, updateDb } from "../../shared/vulndb/db-update.js";
import { ExportServer } from "../vulndb/support/export-server.js";
import { fixtureRecords } from "../vulndb/support/fixture-records.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";
import { buildZip } from "../vulndb/support/zip.js";

const quiet = () => {};
const ghsa = () =>
  Object.fromEntries(fixtureRecords("ghsa").map((r) => [`${r.record.id}.json`, JSON.stringify(r.record)]));

describe("OSV zips with stored (uncompressed) entries", () => {
  let tmp: string;
  const server = new ExportServer();
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "portcullis-stored-zip-"));
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it("db import reads stored entries as it reads deflated ones", async () => {
    const store = new MemoryBlobStore();
    const zip = path.join(tmp, "stored.zip");
    await writeFile(zip, buildZip(ghsa(), { stored: true }));
    const result = await importRecords(store, zip, { log: quiet });
    expect(result.stats).toMatchObject({ records: Object.keys(ghsa()).length, skipped: 0 });
    // the same records deflated build the same ecosystems
    const deflated = path.join(tmp, "deflated.zip");
    await writeFile(deflated, buildZip(ghsa()));
    const again = await importRecords(new MemoryBlobStore(), deflated, { log: quiet });
    const counts = (e: Record<string, { advisories: number }>) =>
      Object.fromEntries(Object.entries(e).map(([name, { advisories }]) => [name, advisories]));
    expect(counts(result.metadata.ecosystems)).toEqual(counts(again.metadata.ecosystems));
  });

  it("a damaged stored entry is a clear db-feed-corrupt error and the previous DB stays current", async () => {
    const store = new MemoryBlobStore();
    const good = path.join(tmp, "good.zip");
    await writeFile(good, buildZip(ghsa()));
    const first = await importRecords(store, good, { log: quiet });
    const bad = path.join(tmp, "bad.zip");
    await writeFile(bad, buildZip(ghsa(), { stored: true, corruptCrc: true }));
    const err = await importRecords(store, bad, { log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanError);
    expect((err as ScanError).code).toBe("db-feed-corrupt");
    expect((err as Error).message).toMatch(/CRC/);
    expect((await readPointer(store))!.version).toBe(first.metadata.version);
  });

  it("a feed download served as a stored zip updates the DB (serve's refresh path)", async () => {
    server.serve("npm", buildZip(ghsa(), { stored: true }));
    const store = new MemoryBlobStore();
    const downloads = await mkdtemp(path.join(tmp, "feeds-"));
    const result = await updateDb(store, {
      baseUrl: server.url,
      ecosystems: ["npm"],
      log: quiet,
      tmpDir: downloads,
      now: new Date("2025-07-01T12:00:00Z"),
    });
    expect(result.metadata.ecosystems.npm!.advisories).toBeGreaterThan(0);
  });
});
