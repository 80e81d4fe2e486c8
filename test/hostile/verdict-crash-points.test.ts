import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { openLocalStore, type SqliteDatabase } from "../../shared/local/sqlite-database.js";
import type { BlobStore } from "../../shared/ports/blob-store.js";
import { recordVerdict } from "../../shared/stages/verdict-history.js";

/**
 * The verdict stage dying after each of its verdict-record writes (the kill point `verdict:wrote`):
 * the redelivered message, run later, must leave exactly one record of that verdict in the image's
 * history — a push is one verdict, however often its stage was killed.
 */
class Killed extends Error {}

let dir: string;
let db: SqliteDatabase;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-verdict-crash-"));
  db = openLocalStore(path.join(dir, "store.sqlite"));
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Blobs of a process that dies after its n-th write: nothing it writes later reaches the store. */
function blobsDyingAfter(writes: number): BlobStore {
  const store = new SqliteBlobStore(db);
  let done = 0;
  const write = async (run: () => Promise<void>) => {
    if (done >= writes) throw new Killed();
    await run();
    done++;
  };
  return {
    get: (key) => store.get(key),
    has: (key) => store.has(key),
    list: (prefix) => store.list(prefix),
    put: (key, data, options) => write(() => store.put(key, data, options)),
    delete: (key) => write(() => store.delete(key)),
  };
}

const image = { registry: "127.0.0.1:5000", repository: "crash/app", digest: `sha256:${"d".repeat(64)}` };
const verdictAt = (at: string) => ({
  verdictId: "scan-1|matches/v1|push",
  cause: "push" as const,
  at,
  dbVersion: "v1",
  decision: "block",
});

it.each([1, 2])("killed after its verdict write %i, the redelivered verdict leaves one record", async (n) => {
  await expect(
    recordVerdict(blobsDyingAfter(n), image, verdictAt("2026-12-05T12:00:00.000Z"), []),
  ).rejects.toThrow(Killed);
  // the redelivery runs later: its clock says a later time
  const record = await recordVerdict(
    new SqliteBlobStore(db),
    image,
    verdictAt("2026-12-05T12:00:09.000Z"),
    [],
  );
  const keys: string[] = [];
  for await (const key of new SqliteBlobStore(db).list("verdicts/")) keys.push(key);
  const records = keys.filter((k) => !/\/(latest|rescan-failure)\.json$/.test(k));
  expect(records).toHaveLength(1);
  expect(JSON.parse((await new SqliteBlobStore(db).get(records[0]!))!.toString())).toEqual(record);
});
