import { describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch, matchTemplate } from "../../shared/http/router.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { request } from "../pipeline/notifications.js";

function makeDeps(tables: TableStore = new MemoryTableStore()): HttpDeps & { bus: MemoryBus } {
  return {
    tables,
    blobs: new FsBlobStore("/nonexistent-unused"),
    bus: new MemoryBus(),
    now: () => new Date("2024-06-01T12:00:00Z"),
    log: () => {},
    hookAuth: { bearerToken: "t" },
  };
}

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("POST /api/scans", () => {
  it("queues a manual scan and answers 202 with the scan id and status URL", async () => {
    const deps = makeDeps();
    const res = await dispatch(
      request("POST", "/api/scans", {
        body: { image: "127.0.0.1:5000/team/app:v1", platform: "linux/arm64" },
      }),
      deps,
    );
    expect(res.status).toBe(202);
    const { scanId, statusUrl } = res.body as { scanId: string; statusUrl: string };
    expect(statusUrl).toBe(`/api/scans/${scanId}`);
    expect(deps.bus.peek("scan-requests")[0]?.body).toMatchObject({
      scanId,
      image: { registry: "127.0.0.1:5000", repository: "team/app", tag: "v1" },
      platform: "linux/arm64",
      trigger: { kind: "manual", source: "api" },
    });
    // visible at once, before any worker runs
    const status = await dispatch(request("GET", statusUrl), deps);
    expect(status.body).toMatchObject({ scanId, status: "queued", children: [] });
    const gate = await dispatch(request("GET", `/api/gate?image=127.0.0.1:5000/team/app@${DIGEST}`), deps);
    expect(gate.status).toBe(404);
  });

  it("answers 409 on the gate while a digest's scan is queued", async () => {
    const deps = makeDeps();
    await dispatch(
      request("POST", "/api/scans", { body: { image: `127.0.0.1:5000/team/app@${DIGEST}` } }),
      deps,
    );
    const gate = await dispatch(request("GET", `/api/gate?image=127.0.0.1:5000/team/app@${DIGEST}`), deps);
    expect(gate).toMatchObject({ status: 409, body: { decision: "pending" } });
  });

  it.each([
    ["malformed JSON", "{", /malformed JSON/],
    ["no image", {}, /image/],
    ["an unknown field", { image: "a/b:c", extra: 1 }, /extra/],
    ["a bad platform", { image: "a/b:c", platform: "linux" }, /platform/],
    ["an archive reference", { image: "oci-archive:/tmp/x.tar" }, /registry reference/],
    ["an invalid reference", { image: "UPPER/Case::bad" }, /invalid image reference/],
  ])("answers 400 for %s", async (_what, body, reason) => {
    const res = await dispatch(request("POST", "/api/scans", { body }), makeDeps());
    expect(res.status).toBe(400);
    expect((res.body as { error: string }).error).toMatch(reason);
  });
});

describe("query routes", () => {
  it("answers 400 for a malformed scan id and 404 for an unknown one", async () => {
    expect((await dispatch(request("GET", "/api/scans/not-an-id"), makeDeps())).status).toBe(400);
    expect((await dispatch(request("GET", `/api/scans/${"0".repeat(32)}`), makeDeps())).status).toBe(404);
  });

  it("validates the image list filters", async () => {
    expect((await dispatch(request("GET", "/api/images?verdict=maybe"), makeDeps())).status).toBe(400);
    const res = await dispatch(request("GET", "/api/images?verdict=block"), makeDeps());
    expect(res).toMatchObject({ status: 200, body: { images: [] } });
  });

  it("answers 400 for a report path without a digest and 404 for an unknown image", async () => {
    expect((await dispatch(request("GET", "/api/images/reg/repo/latest"), makeDeps())).status).toBe(400);
    expect(
      (await dispatch(request("GET", `/api/images/reg.example/team/app/${DIGEST}`), makeDeps())).status,
    ).toBe(404);
  });

  it("answers the gate: 400 without an image or a digest, 404 when never scanned", async () => {
    expect((await dispatch(request("GET", "/api/gate"), makeDeps())).status).toBe(400);
    expect(
      (await dispatch(request("GET", "/api/gate?image=reg.example/app:latest"), makeDeps())).status,
    ).toBe(400);
    const res = await dispatch(request("GET", `/api/gate?image=reg.example/app@${DIGEST}`), makeDeps());
    expect(res).toMatchObject({ status: 404, body: { decision: "unknown" } });
  });

  it("answers 400, not 500, for a repository too long to be a table key", async () => {
    const long = `reg.example/${"a".repeat(600)}`;
    const gate = await dispatch(request("GET", `/api/gate?image=${long}@${DIGEST}`), makeDeps());
    expect(gate.status).toBe(400);
    const report = await dispatch(request("GET", `/api/images/${long}/${DIGEST}`), makeDeps());
    expect(report.status).toBe(400);
    expect((report.body as { error: string }).error).toMatch(/too long/);
  });

  it("reports health, and 503 when table storage fails", async () => {
    expect((await dispatch(request("GET", "/api/health"), makeDeps())).status).toBe(200);
    const broken = Object.create(new MemoryTableStore(), {
      get: { value: () => Promise.reject(new Error("down")) },
    });
    expect((await dispatch(request("GET", "/api/health"), makeDeps(broken))).status).toBe(503);
  });

  it("answers 405 with Allow for a wrong method and 404 for an unknown path", async () => {
    const wrong = await dispatch(request("DELETE", "/api/gate"), makeDeps());
    expect(wrong).toMatchObject({ status: 405, headers: { Allow: "GET" } });
    expect((await dispatch(request("GET", "/api/nothing-here"), makeDeps())).status).toBe(404);
    expect((await dispatch(request("GET", "/elsewhere"), makeDeps())).status).toBe(404);
  });
});

describe("route templates", () => {
  it.each([
    ["scans/{scanId}", "scans/abc", { scanId: "abc" }],
    ["scans/{scanId}", "scans", undefined],
    ["images/{*path}", "images/127.0.0.1:5000/a/b/sha256:00", { path: "127.0.0.1:5000/a/b/sha256:00" }],
    ["images/{*path}", "images", undefined],
    ["hooks/github", "HOOKS/GitHub", {}],
  ])("%s matches %s", (template, path, expected) => {
    expect(matchTemplate(template, path)).toEqual(expected);
  });
});
