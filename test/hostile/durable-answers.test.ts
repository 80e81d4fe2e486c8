import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { type LocalHttpServer, startHttpServer } from "../../shared/local/http-server.js";
import { openLocalStore, type SqliteDatabase, syncLocalStore } from "../../shared/local/sqlite-database.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { SqliteBus } from "../../shared/local/sqlite-bus.js";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import { type IssueTracker, withBeforeWrite } from "../../shared/tracking/issue-tracker.js";

// The local store commits without an fsync (WAL, synchronous=NORMAL) and is made durable only
// where someone outside is told: before an HTTP answer to a write and before a GitHub change.

const TOKEN = "durable-answers-token";
const projectRoot = path.resolve(import.meta.dirname, "../..");

describe("the local store fsyncs where an answer goes out, not on every commit", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "portcullis-durable-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a hand-off commit writes the WAL without fsync; syncLocalStore fsyncs it (seen by strace)", () => {
    const script = path.join(dir, "commit-then-sync.mts");
    const store = path.join(dir, "traced.sqlite");
    writeFileSync(
      script,
      [
        `import { openLocalStore, syncLocalStore } from ${JSON.stringify(path.join(projectRoot, "shared/local/sqlite-database.ts"))};`,
        `import { SqliteTableStore } from ${JSON.stringify(path.join(projectRoot, "shared/local/sqlite-table-store.ts"))};`,
        `const db = openLocalStore(${JSON.stringify(store)});`,
        "const tables = new SqliteTableStore(db);",
        'process.stderr.write("MARK:commit\\n");',
        'await tables.upsert("scans", "p", "r", { state: "queued" });',
        'process.stderr.write("MARK:sync\\n");',
        "syncLocalStore(db);",
        'process.stderr.write("MARK:end\\n");',
        "db.close();",
      ].join("\n"),
    );
    const run = spawnSync(
      "strace",
      [
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-e",
        "signal=none",
        process.execPath,
        "--import",
        "tsx",
        script,
      ],
      { cwd: projectRoot, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.error, "strace must be installed (.ci/run installs it)").toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stderr.split("\n");
    const between = (from: string, to: string) =>
      lines.slice(lines.indexOf(from) + 1, lines.indexOf(to)).filter((l) => /\b(fsync|fdatasync)\(/.test(l));
    expect(lines).toContain("MARK:commit");
    expect(between("MARK:commit", "MARK:sync")).toEqual([]);
    expect(between("MARK:sync", "MARK:end").length).toBeGreaterThan(0);
  });

  it("a synced store keeps NORMAL for the commits after it", () => {
    const db = openLocalStore(path.join(dir, "mode.sqlite"));
    syncLocalStore(db);
    // 1 = NORMAL, 2 = FULL
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    db.close();
  });
});

describe("the local HTTP server makes a write durable before it answers", () => {
  let db: SqliteDatabase;
  let dir: string;
  let server: LocalHttpServer;
  const seen: { method: string; scanRows: number }[] = [];
  let failSync = false;
  let tables: SqliteTableStore;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "portcullis-durable-http-"));
    db = openLocalStore(path.join(dir, "store.sqlite"));
    tables = new SqliteTableStore(db);
    const deps: HttpDeps = {
      tables,
      blobs: new SqliteBlobStore(db),
      bus: new SqliteBus(db),
      now: () => new Date(),
      log: () => {},
      hookAuth: { bearerToken: TOKEN },
    };
    server = await startHttpServer(deps, {
      host: "127.0.0.1",
      port: 0,
      beforeWriteAnswer: () => {
        const rows = db.prepare("SELECT count(*) AS n FROM table_rows WHERE tbl = 'scans'").get() as {
          n: number;
        };
        seen.push({ method: "POST", scanRows: rows.n });
        if (failSync) throw new Error("fsync failed: EIO");
        syncLocalStore(db);
      },
    });
  });
  afterAll(async () => {
    await server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const postScan = () =>
    fetch(`${server.url}/api/scans`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ image: "127.0.0.1:5999/app:1" }),
    });

  it("the scan row is committed and synced before the 202 goes out", async () => {
    seen.length = 0;
    const res = await postScan();
    expect(res.status).toBe(202);
    expect(seen).toEqual([{ method: "POST", scanRows: 1 }]);
  });

  it("a read is answered without a sync", async () => {
    seen.length = 0;
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBeLessThan(600);
    expect(seen).toEqual([]);
  });

  it("a failed sync answers 500, never the 202 it could not keep", async () => {
    seen.length = 0;
    failSync = true;
    try {
      const res = await postScan();
      expect(res.status).toBe(500);
      expect(seen).toHaveLength(1);
    } finally {
      failSync = false;
    }
  });
});

describe("tracking tells GitHub of a change only after the store is durable", () => {
  it("runs the sync before every writing call and never before a read", async () => {
    const calls: string[] = [];
    const issue = { number: 7, state: "open" as const, body: "", labels: [] };
    const inner: IssueTracker = {
      listTracked: async () => {
        calls.push("list");
        return [];
      },
      recentComments: async () => {
        calls.push("recent");
        return [];
      },
      create: async () => {
        calls.push("create");
        return issue;
      },
      update: async () => {
        calls.push("update");
        return issue;
      },
      comment: async () => void calls.push("comment"),
      react: async () => void calls.push("react"),
    };
    const tracker = withBeforeWrite(inner, () => calls.push("sync"));
    const repo = { owner: "o", repo: "r" };
    await tracker.listTracked(repo);
    await tracker.recentComments(repo, 7);
    await tracker.create(repo, { title: "t", body: "b", labels: [], assignees: [] });
    await tracker.update(repo, 7, { state: "closed" });
    await tracker.comment(repo, 7, "c");
    await tracker.react(repo, 1, "+1");
    expect(calls).toEqual([
      "list",
      "recent",
      "sync",
      "create",
      "sync",
      "update",
      "sync",
      "comment",
      "sync",
      "react",
    ]);
  });

  it("a failed sync stops the GitHub call", async () => {
    let created = false;
    const inner = {
      create: async () => {
        created = true;
        return {};
      },
    } as unknown as IssueTracker;
    const tracker = withBeforeWrite(inner, () => {
      throw new Error("fsync failed: EIO");
    });
    await expect(
      tracker.create({ owner: "o", repo: "r" }, { title: "t", body: "", labels: [], assignees: [] }),
    ).rejects.toThrow(/EIO/);
    expect(created).toBe(false);
  });
});
