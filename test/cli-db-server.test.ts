import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type LocalHttpServer } from "../shared/local/http-server.js";
import { refreshDbAndRescan } from "../shared/stages/jobs/db-refresh.js";
import { freePort } from "./support/free-port.js";
import { runCli } from "./support/cli.js";
import { osvExportZip } from "./integration/support/osv-records.js";
import { type OsvExportServer, startOsvExportServer } from "./integration/support/osv-export-server.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./pipeline/memory-pipeline.js";

/**
 * `portcullis db update --server`: the CLI asks a running server (the real route on the local
 * HTTP server, the real DB refresh against a loopback OSV export) and says plainly why it failed.
 */
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "pipeline/fixtures/osv");

let pipeline: MemoryPipeline;
let server: LocalHttpServer;
let feed: OsvExportServer;

beforeAll(async () => {
  feed = await startOsvExportServer();
  const records = [];
  for (const file of (await readdir(FIXTURES)).filter((f) => f.endsWith(".json")).sort())
    records.push(JSON.parse(await readFile(path.join(FIXTURES, file), "utf8")));
  feed.publish("Debian", osvExportZip(records));
  pipeline = await memoryPipeline();
  pipeline.http.dbRefresh = () =>
    refreshDbAndRescan(pipeline.deps, pipeline.blobs, { baseUrl: feed.url, ecosystems: ["Debian"] });
  server = await startHttpServer(pipeline.http, { host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server?.close();
  await pipeline?.stop();
  await feed?.stop();
});

// no app setting of the developer's machine may stand in for a flag
const env = { PORTCULLIS_HOOK_TOKEN: "" };

describe("portcullis db update --server", () => {
  it("asks the server to update its DB and prints the version and the images queued", async () => {
    const r = await runCli(["db", "update", "--server", server.url, "--token", HOOK_TOKEN], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^updated: vulnerability DB \\S+ on ${server.url}\\n`));
    expect(r.stdout).toContain("0 image(s) queued for rescan");
    expect(feed.requests.filter((q) => q.path === "/Debian/all.zip")).toHaveLength(1);
  });

  it("takes the token from PORTCULLIS_HOOK_TOKEN, and says when the DB was already up to date", async () => {
    const r = await runCli(["db", "update", "--server", server.url], {
      env: { PORTCULLIS_HOOK_TOKEN: HOOK_TOKEN },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^up to date: vulnerability DB /);
  });

  it("says the server refused the token, and which flag to pass", async () => {
    const r = await runCli(["db", "update", "--server", server.url, "--token", "not-the-token"], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refused the request \(401\): pass --token .* or --function-key/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says a server it cannot reach is unreachable", async () => {
    const port = await freePort();
    const r = await runCli(["db", "update", "--server", `http://127.0.0.1:${port}`, "--token", "t"], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it("says a server without the route is not a portcullis server of this version", async () => {
    const r = await runCli(["db", "update", "--server", feed.url, "--token", "t"], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/POST \S+\/api\/db\/refresh not found \(40[45]\): is .* a portcullis server/);
  });

  it("refuses feed flags the server would not use, as a usage error", async () => {
    const r = await runCli(
      ["db", "update", "--server", server.url, "--db-url", "http://127.0.0.1:9/", "--no-msrc"],
      { env },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("drop --db-url, --no-msrc");
  });

  it("refuses a --server that is not an http(s) URL", async () => {
    const r = await runCli(["db", "update", "--server", "ftp://127.0.0.1/"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--server: not an http(s) URL");
  });
});
