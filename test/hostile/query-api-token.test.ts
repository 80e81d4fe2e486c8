import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { type LocalHttpServer, startHttpServer } from "../../shared/local/http-server.js";
import { isLoopbackHost } from "../../shared/local/query-api-guard.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

const TOKEN = "s3cret-hook-token";
const deps = (): HttpDeps => ({
  tables: new MemoryTableStore(),
  blobs: new FsBlobStore("/nonexistent-unused"),
  bus: new MemoryBus(),
  now: () => new Date(),
  log: () => {},
  hookAuth: { bearerToken: TOKEN },
});

describe("the local query API beyond loopback", () => {
  it("only loopback listen addresses count as loopback", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
      expect(isLoopbackHost(host)).toBe(true);
    // a name is not known to stay on this machine: it needs the token
    for (const host of ["serve.example.invalid", ""]) expect(isLoopbackHost(host)).toBe(false);
  });

  // the server listens on loopback, told to behave as it does beyond it
  let guarded: LocalHttpServer;
  let open: LocalHttpServer;
  beforeAll(async () => {
    guarded = await startHttpServer(deps(), { host: "127.0.0.1", port: 0, requireTokenForQueries: true });
    open = await startHttpServer(deps(), { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await guarded.close();
    await open.close();
  });

  const scanId = "0".repeat(32);
  it.each([
    ["GET", `/api/scans/${scanId}`],
    ["GET", "/api/images"],
    ["POST", "/api/scans"],
  ])("%s %s needs the hook token", async (method, path) => {
    const init = {
      method,
      ...(method === "POST" ? { body: JSON.stringify({ image: "127.0.0.1:5000/app:v1" }) } : {}),
    };
    const refused = await fetch(`${guarded.url}${path}`, init);
    expect(refused.status).toBe(401);
    const wrong = await fetch(`${guarded.url}${path}`, {
      ...init,
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
    const allowed = await fetch(`${guarded.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(allowed.status).not.toBe(401);
    // on loopback the local API stays open, as before
    expect((await fetch(`${open.url}${path}`, init)).status).not.toBe(401);
  });

  it("health stays open", async () => {
    expect((await fetch(`${guarded.url}/api/health`)).status).toBe(200);
  });
});
