import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzuriteInstance, startAzurite } from "../../shared/local/azurite.js";
import { AzureTableStore } from "../../shared/ports/azure-table-store.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { LOCAL_STORE_FILE, openLocalStore } from "../../shared/local/sqlite-database.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import { TableKeyError } from "../../shared/ports/table-key.js";
import type { TableRow, TableStore } from "../../shared/ports/table-store.js";

let azurite: AzuriteInstance | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const HOSTILE_KEYS = [
  "a/b\\c#d?e",
  "docker.io/library/nginx",
  "x~2Fy%25z'q", // looks encoded already; and the escape, percent and quote characters themselves
  "tab\there\nnewline\u0000nul\u007fdel\u0085nel",
  "ünïcödé/日本語/🐳",
  "k".repeat(512), // 1 KiB of UTF-16: the most a key may hold
  "🐳".repeat(256),
  "",
];

const collect = async (rows: AsyncIterable<TableRow>) => {
  const out: TableRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
};

let tableCounter = 0;
const freshTable = () => `t${Date.now().toString(36)}${tableCounter++}`;

describe.each([
  ["memory", () => new MemoryTableStore()],
  ["Azure Tables on Azurite", () => new AzureTableStore({ connectionString: azurite!.connectionString })],
  ["SQLite (the local host's durable store)", () => new SqliteTableStore(openLocalStore(":memory:"))],
] as const)("TableStore contract: %s", (_name, create) => {
  let store: TableStore;
  let table: string;
  beforeAll(() => {
    store = create();
  });
  it("writes a partition's rows in batches: more than one transaction's worth, a repeated key once", async () => {
    table = freshTable();
    await store.upsert(table, "digest", "old", { v: 0 });
    const rows = Array.from({ length: 230 }, (_, i) => ({
      rowKey: `r${String(i).padStart(3, "0")}`,
      properties: { v: i },
    }));
    await store.upsertMany(table, "digest", [
      ...rows,
      { rowKey: "r007", properties: { v: -7 } },
      { rowKey: "old", properties: { v: 1 } },
    ]);
    const read = await collect(store.query(table, { partitionKey: "digest" }));
    expect(read).toHaveLength(231);
    expect(read.find((r) => r.rowKey === "r007")?.properties).toEqual({ v: -7 });
    expect(read.find((r) => r.rowKey === "old")?.properties).toEqual({ v: 1 });
    expect(read.find((r) => r.rowKey === "r229")?.properties).toEqual({ v: 229 });
    await store.upsertMany(table, "digest", []);
    expect(await collect(store.query(table, { partitionKey: "digest" }))).toHaveLength(231);
  });

  it("creates, reads, replaces and deletes a row", async () => {
    table = freshTable();
    expect(await store.get(table, "p", "r")).toBeUndefined();
    const etag = await store.upsert(table, "p", "r", {
      status: "queued",
      layers: 3,
      done: false,
      ratio: 0.5,
    });
    const row = await store.get(table, "p", "r");
    expect(row).toEqual({
      partitionKey: "p",
      rowKey: "r",
      etag,
      properties: { status: "queued", layers: 3, done: false, ratio: 0.5 },
    });
    await store.upsert(table, "p", "r", { status: "done" });
    expect((await store.get(table, "p", "r"))?.properties).toEqual({ status: "done" });
    expect(await store.delete(table, "p", "r")).toEqual({ ok: true, etag: "" });
    expect(await store.get(table, "p", "r")).toBeUndefined();
    expect(await store.delete(table, "p", "r")).toEqual({ ok: true, etag: "" });
  });

  it("keeps large and fractional numbers exact", async () => {
    table = freshTable();
    await store.upsert(table, "p", "n", { big: 2 ** 40, negative: -(2 ** 33), tiny: 1e-9, int: -7 });
    expect((await store.get(table, "p", "n"))?.properties).toEqual({
      big: 2 ** 40,
      negative: -(2 ** 33),
      tiny: 1e-9,
      int: -7,
    });
  });

  it("inserts only when absent", async () => {
    table = freshTable();
    const first = await store.insertIfAbsent(table, "events", "id-1", { seenAt: "2024-01-01T00:00:00Z" });
    expect(first.ok).toBe(true);
    expect(await store.insertIfAbsent(table, "events", "id-1", { seenAt: "later" })).toEqual({
      ok: false,
      conflict: "exists",
    });
    expect((await store.get(table, "events", "id-1"))?.properties.seenAt).toBe("2024-01-01T00:00:00Z");
  });

  it("lets exactly one of two writers holding the same ETag win; the other gets a conflict", async () => {
    table = freshTable();
    await store.upsert(table, "scan", "s1", { completed: 0 });
    const a = await store.get(table, "scan", "s1");
    const b = await store.get(table, "scan", "s1");
    const [ra, rb] = await Promise.all([
      store.updateIfMatch(table, "scan", "s1", { completed: 1, by: "a" }, a!.etag),
      store.updateIfMatch(table, "scan", "s1", { completed: 1, by: "b" }, b!.etag),
    ]);
    const results = [ra, rb];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, conflict: "changed" }]);
    const winner = ra.ok ? "a" : "b";
    const stored = await store.get(table, "scan", "s1");
    expect(stored?.properties.by).toBe(winner);
    // The loser re-reads and retries with the fresh ETag: that succeeds.
    const retried = await store.updateIfMatch(table, "scan", "s1", { completed: 2 }, stored!.etag);
    expect(retried.ok).toBe(true);
    expect(await store.delete(table, "scan", "s1", { etag: stored!.etag })).toEqual({
      ok: false,
      conflict: "changed",
    });
    expect(await store.updateIfMatch(table, "scan", "gone", { x: 1 }, stored!.etag)).toEqual({
      ok: false,
      conflict: "missing",
    });
  });

  it.each(HOSTILE_KEYS.map((k) => [JSON.stringify(k).slice(0, 40), k]))(
    "round-trips the hostile key %s as partition and row key",
    async (_label, key) => {
      table = freshTable();
      await store.upsert(table, key, key, { v: key.length });
      const row = await store.get(table, key, key);
      expect(row?.partitionKey).toBe(key);
      expect(row?.rowKey).toBe(key);
      const listed = await collect(store.query(table, { partitionKey: key }));
      expect(listed.map((r) => r.rowKey)).toEqual([key]);
      const etag = row!.etag;
      expect((await store.updateIfMatch(table, key, key, { v: 0 }, etag)).ok).toBe(true);
      expect((await store.delete(table, key, key)).ok).toBe(true);
      expect(await store.get(table, key, key)).toBeUndefined();
    },
  );

  it("rejects a key that is too long once encoded, before calling the service", async () => {
    await expect(store.upsert(freshTable(), "k".repeat(513), "r", {})).rejects.toThrow(TableKeyError);
    await expect(store.upsert(freshTable(), "p", "/".repeat(200), {})).rejects.toThrow(/too long/);
  });

  it("queries a partition with a property filter and by key prefixes across repositories", async () => {
    table = freshTable();
    const images = [
      ["docker.io/library/nginx", "sha256:1", "block"],
      ["docker.io/library/nginx", "sha256:2", "pass"],
      ["docker.io/library/nginx-exporter", "sha256:3", "block"],
      ["docker.io/library/alpine", "sha256:4", "block"],
      ["ghcr.io/o'brien/app", "sha256:5", "block"],
    ];
    for (const [repo, digest, verdict] of images)
      await store.upsert(table, repo!, digest!, { verdict: verdict! });

    const blocked = await collect(
      store.query(table, { partitionKey: "docker.io/library/nginx", where: { verdict: "block" } }),
    );
    expect(blocked.map((r) => r.rowKey)).toEqual(["sha256:1"]);

    const nginxFamily = await collect(store.query(table, { partitionKeyPrefix: "docker.io/library/nginx" }));
    expect(nginxFamily.map((r) => r.rowKey).sort()).toEqual(["sha256:1", "sha256:2", "sha256:3"]);

    const library = await collect(store.query(table, { partitionKeyPrefix: "docker.io/library/", limit: 2 }));
    expect(library).toHaveLength(2);

    const quoted = await collect(store.query(table, { partitionKeyPrefix: "ghcr.io/o'brien/" }));
    expect(quoted.map((r) => r.partitionKey)).toEqual(["ghcr.io/o'brien/app"]);

    const byRow = await collect(
      store.query(table, { partitionKey: "docker.io/library/nginx", rowKeyPrefix: "sha256:2" }),
    );
    expect(byRow.map((r) => r.rowKey)).toEqual(["sha256:2"]);
  });

  it("rejects invalid table names and property values", async () => {
    await expect(store.get("bad-name", "p", "r")).rejects.toThrow(/invalid table name/);
    await expect(store.upsert(freshTable(), "p", "r", { n: Number.NaN })).rejects.toThrow(/finite number/);
  });

  it("refuses the property names Azure refuses, in a row and in a query's filter", async () => {
    const t = freshTable();
    await expect(store.upsert(t, "p", "r", { "not-a-name": 1 })).rejects.toThrow(
      /invalid table property name/,
    );
    await expect(collect(store.query(t, { where: { "a b": "x" } }))).rejects.toThrow(
      /invalid table property name "a b"/,
    );
  });
});

describe("AzureTableStore identity-based construction", () => {
  it("puts the token credential in the pipeline: the SDK refuses to send a bearer token over plain HTTP", async () => {
    let asked = 0;
    const store = new AzureTableStore({
      accountUrl: azurite!.tableUrl,
      credential: {
        getToken: async () => {
          asked++;
          return { token: "fake", expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      },
    });
    await expect(store.get("identitytest", "p", "r")).rejects.toThrow(
      /Bearer token authentication.*non-https/,
    );
    expect(asked).toBe(0); // refused before any token was fetched, so none could leak
  });
});

describe("SqliteTableStore on one file from two connections (two processes)", () => {
  it("lets exactly one of them claim a row or win an ETag race, and each sees the other's commit", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-tables-"));
    try {
      const file = path.join(dir, LOCAL_STORE_FILE);
      const [a, b] = [new SqliteTableStore(openLocalStore(file)), new SqliteTableStore(openLocalStore(file))];
      const claims = await Promise.all([
        a.insertIfAbsent("dedupe", "p", "r", { by: "a" }),
        b.insertIfAbsent("dedupe", "p", "r", { by: "b" }),
      ]);
      expect(claims.filter((c) => c.ok)).toHaveLength(1);
      expect(claims.filter((c) => !c.ok)).toEqual([{ ok: false, conflict: "exists" }]);
      const seen = (await b.get("dedupe", "p", "r"))!;
      const updates = await Promise.all([
        a.updateIfMatch("dedupe", "p", "r", { by: "a2" }, seen.etag),
        b.updateIfMatch("dedupe", "p", "r", { by: "b2" }, seen.etag),
      ]);
      expect(updates.filter((u) => u.ok)).toHaveLength(1);
      expect(updates.filter((u) => !u.ok)).toEqual([{ ok: false, conflict: "changed" }]);
      const winner = updates[0]!.ok ? "a2" : "b2";
      expect((await a.get("dedupe", "p", "r"))!.properties).toEqual({ by: winner });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
