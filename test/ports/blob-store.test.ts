import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzuriteInstance, startAzurite } from "../../shared/local/azurite.js";
import { AzureBlobStore } from "../../shared/ports/azure-blob-store.js";
import { type BlobStore, putBlobs } from "../../shared/ports/blob-store.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { openLocalStore } from "../../shared/local/sqlite-database.js";

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of it) out.push(key);
  return out;
}

/** The behaviour every BlobStore adapter owes its callers. */
function blobStoreContract(name: string, open: () => Promise<BlobStore>) {
  describe(`${name} (BlobStore contract)`, () => {
    let store: BlobStore;
    beforeAll(async () => {
      store = await open();
    });

    it("returns undefined and false for a key never written", async () => {
      expect(await store.get("missing/key.json")).toBeUndefined();
      expect(await store.has("missing/key.json")).toBe(false);
    });

    it("writes several blobs at once (one commit where the store has commits), in order", async () => {
      await putBlobs(store, [
        { key: "verdicts/a/record.json", data: '{"n":1}', contentType: "application/json" },
        { key: "verdicts/a/latest.json", data: Buffer.from([7, 8, 9]) },
        { key: "verdicts/a/latest.json", data: '{"n":2}' },
      ]);
      expect((await store.get("verdicts/a/record.json"))?.toString()).toBe('{"n":1}');
      expect((await store.get("verdicts/a/latest.json"))?.toString()).toBe('{"n":2}');
    });

    it("reads back exactly what was put, strings as UTF-8", async () => {
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      await store.put("layers/sha256/abc/as1-x.json", bytes, { contentType: "application/octet-stream" });
      expect(await store.get("layers/sha256/abc/as1-x.json")).toEqual(bytes);
      await store.put("reports/ü.json", '{"ok":"✓"}', { contentType: "application/json" });
      expect((await store.get("reports/ü.json"))?.toString("utf8")).toBe('{"ok":"✓"}');
      expect(await store.has("reports/ü.json")).toBe(true);
    });

    it("replaces a blob whole on a second put", async () => {
      await store.put("replace/me", "a much longer first version");
      await store.put("replace/me", "short");
      expect((await store.get("replace/me"))?.toString()).toBe("short");
    });

    it("stores an empty blob", async () => {
      await store.put("empty/blob", Buffer.alloc(0));
      expect(await store.get("empty/blob")).toEqual(Buffer.alloc(0));
      expect(await store.has("empty/blob")).toBe(true);
    });

    it("deletes, and deleting a missing key is not an error", async () => {
      await store.put("del/x", "x");
      await store.delete("del/x");
      expect(await store.has("del/x")).toBe(false);
      await expect(store.delete("del/x")).resolves.toBeUndefined();
    });

    it("lists keys by string prefix in lexicographic order", async () => {
      for (const key of ["list/b/2", "list/a/1", "list/a/10", "list/ab", "listx/1"])
        await store.put(key, key);
      expect(await collect(store.list("list/"))).toEqual(["list/a/1", "list/a/10", "list/ab", "list/b/2"]);
      expect(await collect(store.list("list/a"))).toEqual(["list/a/1", "list/a/10", "list/ab"]);
      expect(await collect(store.list("list/a/1"))).toEqual(["list/a/1", "list/a/10"]);
      expect(await collect(store.list("nothing-here/"))).toEqual([]);
    });

    it("concurrent puts of the same key leave one whole value", async () => {
      const values = Array.from({ length: 8 }, (_, i) => String(i).repeat(50_000));
      await Promise.all(values.map((v) => store.put("race/key", v)));
      expect(values).toContain((await store.get("race/key"))?.toString());
    });

    it.each(["", "/abs", "a/../b", "..", "a//b", "./a", "a/./b", "trailing/", "back\\slash", "nul\u0000"])(
      "rejects the key %j",
      async (key) => {
        await expect(store.put(key, "x")).rejects.toThrow(/invalid blob key/);
        await expect(store.get(key)).rejects.toThrow(/invalid blob key/);
      },
    );
  });
}

let fsRoot: string;
blobStoreContract("FsBlobStore", async () => {
  fsRoot = await mkdtemp(path.join(tmpdir(), "portcullis-blobs-"));
  return new FsBlobStore(fsRoot);
});

describe("FsBlobStore specifics", () => {
  it("leaves no temp files behind and never lists its temp directory", async () => {
    const store = new FsBlobStore(fsRoot);
    await store.put("tmp-check/a", "a");
    expect(await readdir(path.join(fsRoot, ".tmp"))).toEqual([]);
    expect((await collect(store.list(""))).some((k) => k.startsWith(".tmp"))).toBe(false);
    await expect(store.put(".tmp/x", "x")).rejects.toThrow(/reserved/);
  });
  afterAll(() => rm(fsRoot, { recursive: true, force: true }));
});

blobStoreContract("SqliteBlobStore (the local host's durable store)", async () => {
  return new SqliteBlobStore(openLocalStore(":memory:"));
});

describe("SqliteBlobStore specifics", () => {
  it("writes a batch all or none: one bad key and nothing of it is written", async () => {
    const store = new SqliteBlobStore(openLocalStore(":memory:"));
    await expect(
      store.putMany([
        { key: "ok/one.json", data: "1" },
        { key: "../escape.json", data: "2" },
      ]),
    ).rejects.toThrow();
    expect(await store.has("ok/one.json")).toBe(false);
  });
});

let azurite: AzuriteInstance | undefined;
blobStoreContract("AzureBlobStore on Azurite", async () => {
  azurite = await startAzurite();
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  // the container does not exist yet: the adapter creates it
  return new AzureBlobStore(service.getContainerClient("portcullis-contract"));
});
afterAll(async () => {
  await azurite?.stop();
});
