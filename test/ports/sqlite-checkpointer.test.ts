import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { startCheckpointer } from "../../shared/local/sqlite-checkpointer.js";
import { openLocalStore, type SqliteDatabase } from "../../shared/local/sqlite-database.js";

let dir: string | undefined;
let db: SqliteDatabase | undefined;
afterEach(async () => {
  db?.close();
  db = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const until = async (what: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
};

it("checkpoints the WAL from its worker while the host's connection does not, and gives it back on stop", async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-checkpointer-"));
  const file = path.join(dir, "store.sqlite");
  db = openLocalStore(file);
  const logs: string[] = [];
  const stop = startCheckpointer(db, file, (m) => logs.push(m), {
    checkpointAtBytes: 256 * 1024,
    pollMs: 20,
  });
  expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);

  const blobs = new SqliteBlobStore(db);
  const mainSize = () => statSync(file).size;
  const before = mainSize();
  // 2 MB through the WAL: only the worker can have copied it into the main file
  for (let i = 0; i < 20; i++) await blobs.put(`b/${i}`, Buffer.alloc(100_000, i));
  expect(await until(() => mainSize() >= before + 2_000_000)).toBe(true);
  for (let i = 0; i < 20; i++) expect((await blobs.get(`b/${i}`))?.[99_999]).toBe(i);

  await stop();
  expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(4096);
  expect(logs).toEqual([]);
});

it("starts nothing for an in-memory store", async () => {
  db = openLocalStore(":memory:");
  const stop = startCheckpointer(db, ":memory:", () => {});
  expect(db.pragma("wal_autocheckpoint", { simple: true })).not.toBe(0);
  await stop();
});
