import { describe, expect, it, vi } from "vitest";
import { SettingsSchema } from "../../shared/composition/settings.js";
import { jobCadence } from "../../shared/composition/timer-jobs.js";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { scanIdOf } from "../../shared/model/messages.js";
import type { OutgoingMessage } from "../../shared/ports/bus.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { startHttpServer } from "../../shared/local/http-server.js";
import {
  beginHistoricalRescan,
  continueHistoricalRescan,
  resumeInterruptedRescans,
} from "../../shared/stages/jobs/historical-rescan.js";
import { readRescanRun, writeRescanRun } from "../../shared/stages/rescan-runs.js";
import { ncrontab, parseCadence } from "../../shared/stages/jobs/schedules.js";
import { gate } from "../../shared/stages/query.js";
import { createScan } from "../../shared/stages/scan-state.js";
import { markImageStale, readScannedImage, writeScannedImage } from "../../shared/stages/scanned-images.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { request } from "../pipeline/notifications.js";

const REGISTRY = "127.0.0.1:5000";
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(2, "0").repeat(32)}`;
let clock = new Date("2026-06-01T12:00:00Z");

function makeDeps(): HttpDeps & { bus: MemoryBus; tables: MemoryTableStore } {
  return {
    tables: new MemoryTableStore(),
    blobs: new FsBlobStore("/nonexistent-unused"),
    bus: new MemoryBus(),
    now: () => clock,
    log: () => {},
    hookAuth: { bearerToken: "t" },
    rescanBatchSize: 2,
  };
}

/** A scanned image as a push leaves it: a done platform scan and its images row. */
async function seed(deps: HttpDeps, repository: string, n: number, createdAt = "2026-05-01T00:00:00.000Z") {
  const digest = digestOf(n);
  const platform = { os: "linux", architecture: "amd64" };
  const scanId = scanIdOf({ registry: REGISTRY, repository, digest, platform });
  await createScan(deps.tables, {
    ...{ scanId, kind: "platform", status: "done", registry: REGISTRY, repository, digest, platform },
    ...{
      tags: [`v${n}`],
      layers: [],
      pending: [],
      children: [],
      decision: "block",
      createdAt,
      updatedAt: createdAt,
    },
  });
  const image = {
    ...{ registry: REGISTRY, repository, digest, scanId, tags: [`v${n}`], platform, os: "debian 12" },
    ...{ status: "done" as const, decision: "block", reasons: ["CVE-2099-0002"], counts: {}, findings: 1 },
    ...{
      packages: 3,
      dbVersion: "v1",
      inventoryKey: `inventories/${n}.json`,
      reportKey: "r",
      scannedAt: createdAt,
    },
  };
  await writeScannedImage(deps.tables, image);
  return image;
}

const post = (deps: HttpDeps, body: unknown) => dispatch(request("POST", "/api/rescans", { body }), deps);

/** A rescan of every repository queues in the background: its status once that is over. */
async function queuedInBackground(deps: HttpDeps, rescanId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await dispatch(request("GET", `/api/rescans/${rescanId}`), deps);
    const body = status.body as Record<string, unknown>;
    if (body.status !== "queuing") return body;
    if (Date.now() > deadline) throw new Error(`rescan ${rescanId} still queuing`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("POST /api/rescans", () => {
  it("queues every live digest of the repository with cause historical, and reports them queued", async () => {
    const deps = makeDeps();
    for (const n of [1, 2, 3]) await seed(deps, "team/app", n);
    await seed(deps, "team/other", 4);
    const res = await post(deps, { repository: `${REGISTRY}/team/app` });
    expect(res.status).toBe(202);
    const { rescanId, statusUrl, queued } = res.body as {
      rescanId: string;
      statusUrl: string;
      queued: number;
    };
    expect(queued).toBe(3);
    const sent = deps.bus.peek("matching").map((m) => m.body as Record<string, unknown>);
    expect(sent).toHaveLength(3);
    for (const body of sent) expect(body).toMatchObject({ reason: "rescan", cause: "historical", rescanId });

    const status = await dispatch(request("GET", statusUrl), deps);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      rescanId,
      cause: "historical",
      status: "queued",
      finished: false,
      counts: { queued: 3, done: 0, failed: 0 },
    });
    // the gate keeps the previous verdict while the rescan is pending: never 409
    expect((await gate(deps.tables, `${REGISTRY}/team/app@${digestOf(1)}`)).status).toBe(403);
  });

  it("counts a verdict landed once the image's row is rewritten after it was queued", async () => {
    const deps = makeDeps();
    const image = await seed(deps, "team/app", 1);
    const { rescanId } = (await post(deps, { repository: `${REGISTRY}/team/app` })).body as {
      rescanId: string;
    };
    clock = new Date(clock.getTime() + 1000);
    await writeScannedImage(deps.tables, { ...image, decision: "pass", scannedAt: clock.toISOString() });
    const status = await dispatch(request("GET", `/api/rescans/${rescanId}`), deps);
    expect(status.body).toMatchObject({ finished: true, counts: { done: 1, queued: 0 } });
    expect((status.body as { images: unknown[] }).images[0]).toMatchObject({
      state: "done",
      decision: "pass",
    });
  });

  it("leaves stale digests out unless allDigests, and old images out with since", async () => {
    const deps = makeDeps();
    await seed(deps, "team/app", 1, "2026-01-01T00:00:00.000Z");
    const stale = await seed(deps, "team/app", 2, "2026-05-01T00:00:00.000Z");
    await markImageStale(deps.tables, { ...stale }, clock);
    expect((await post(deps, { repository: `${REGISTRY}/team/app` })).body).toMatchObject({ queued: 1 });
    expect((await post(deps, { repository: `${REGISTRY}/team/app`, allDigests: true })).body).toMatchObject({
      queued: 2,
    });
    const all = await post(deps, { repository: "*", allDigests: true, since: "2026-03-01" });
    expect(all.status).toBe(202);
    expect(await queuedInBackground(deps, String((all.body as { rescanId: string }).rescanId))).toMatchObject(
      {
        status: "queued",
        total: 1,
      },
    );
  });

  it("records an image without a completed scan as failed, and goes on with the others", async () => {
    const deps = makeDeps();
    await seed(deps, "team/app", 1);
    const orphan = await seed(deps, "team/app", 2);
    await deps.tables.delete("scans", orphan.scanId, "scan");
    const res = await post(deps, { repository: `${REGISTRY}/team/app` });
    expect(res.body).toMatchObject({ queued: 2 });
    const status = await dispatch(
      request("GET", `/api/rescans/${(res.body as { rescanId: string }).rescanId}`),
      deps,
    );
    expect(status.body).toMatchObject({ counts: { queued: 1, failed: 1 } });
    expect(JSON.stringify(status.body)).toMatch(/its scan record is gone/);
  });

  it.each([
    ["malformed JSON", "{", /malformed JSON/],
    ["no repository", {}, /repository/],
    ["a repository without its registry", { repository: "app" }, /registry\/repository/],
    ["an unknown field", { repository: `${REGISTRY}/a`, force: true }, /force/],
    ["a date that is not one", { repository: `${REGISTRY}/a`, since: "last tuesday" }, /date/],
    ["allDigests as text", { repository: `${REGISTRY}/a`, allDigests: "yes" }, /allDigests/],
    ["an oversized repository", { repository: `${REGISTRY}/${"a".repeat(600)}` }, /repository/],
    ["an array", [1, 2], /object/],
  ])("refuses %s with 400 and the reason", async (_what, body, reason) => {
    const deps = makeDeps();
    const res = await post(deps, body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(reason);
    expect(deps.bus.peek("matching")).toHaveLength(0);
  });

  it("answers 404 for an unknown rescan and 400 for an id that cannot be one", async () => {
    const deps = makeDeps();
    expect((await dispatch(request("GET", "/api/rescans/h-20260601-00000000"), deps)).status).toBe(404);
    expect((await dispatch(request("GET", `/api/rescans/${"x".repeat(65)}`), deps)).status).toBe(400);
    expect((await dispatch(request("GET", "/api/rescans/a%20b"), deps)).status).toBe(400);
  });
});

describe("a rescan of every repository, the queue depth and interruptions", () => {
  it("answers 202 with the rescan id at once and queues in the background, holding back while matching is deep", async () => {
    const deps = { ...makeDeps(), rescanMaxQueueDepth: 2 };
    for (const n of [1, 2, 3, 4, 5]) await seed(deps, `team/r${n}`, n);
    // matching already holds pushes' work, deeper than the limit, and nobody consumes it yet
    await deps.bus.sendBatch("matching", [
      { body: { push: 1 }, messageId: "push-1" },
      { body: { push: 2 }, messageId: "push-2" },
      { body: { push: 3 }, messageId: "push-3" },
    ]);
    const res = await post(deps, { repository: "*" });
    expect(res.status).toBe(202);
    const { rescanId, status } = res.body as { rescanId: string; status: string };
    expect(status).toBe("queuing");
    const meanwhile = await dispatch(request("GET", `/api/rescans/${rescanId}`), deps);
    expect(meanwhile.body).toMatchObject({ status: "queuing", finished: false, counts: { queued: 0 } });
    expect(deps.bus.peek("matching")).toHaveLength(3);

    // a consumer drains the queue: the held-back batches go out, never onto a queue deeper than the limit
    const depthsAtSend: number[] = [];
    const sendBatch = deps.bus.sendBatch.bind(deps.bus);
    deps.bus.sendBatch = async (queue, messages) => {
      depthsAtSend.push(await deps.bus.depth("matching"));
      return sendBatch(queue, messages);
    };
    const rescanned: unknown[] = [];
    const consumer = deps.bus.subscribe("matching", async (d) => void rescanned.push(d.body), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: 5,
      concurrency: 1,
      onPoison: () => {},
    });
    try {
      expect(await queuedInBackground(deps, rescanId)).toMatchObject({ status: "queued", total: 5 });
      await deps.bus.idle();
    } finally {
      await consumer.stop();
    }
    expect(depthsAtSend.length).toBeGreaterThan(0);
    for (const depth of depthsAtSend) expect(depth).toBeLessThanOrEqual(2);
    expect(rescanned.filter((b) => (b as { rescanId?: string }).rescanId === rescanId)).toHaveLength(5);
  });

  it("finishes a run interrupted half-way on resume: every image queued once, nothing lost", async () => {
    const deps = makeDeps();
    for (const n of [1, 2, 3, 4, 5]) await seed(deps, "team/app", n);
    const begun = await beginHistoricalRescan(deps, { repository: "*" });
    // the process dies in its second batch: progress rows written, the send never made
    let batches = 0;
    const sendBatch = deps.bus.sendBatch.bind(deps.bus);
    const dying = {
      ...deps,
      bus: {
        ...deps.bus,
        close: () => deps.bus.close(),
        send: deps.bus.send.bind(deps.bus),
        sendBatch: (queue: string, messages: readonly OutgoingMessage[]) =>
          ++batches === 1 ? sendBatch(queue, messages) : new Promise<void>(() => {}),
      },
    };
    void continueHistoricalRescan(dying, begun, { batchSize: 2 });
    await vi.waitFor(() => expect(batches).toBe(2));
    expect(deps.bus.peek("matching")).toHaveLength(2);
    expect((await readRescanRun(deps.tables, begun.rescanId))?.status).toBe("queuing");

    // the restarted host: the run's heartbeat predates it
    clock = new Date(clock.getTime() + 60_000);
    const resumed = await resumeInterruptedRescans(deps, { batchSize: 2, staleAfterMs: 30_000 });
    expect(resumed.map((r) => [r.rescanId, r.status, r.total])).toEqual([[begun.rescanId, "queued", 5]]);
    const sent = deps.bus.peek("matching").map((m) => (m.body as { image: { digest: string } }).image.digest);
    expect(sent.sort()).toEqual([1, 2, 3, 4, 5].map(digestOf).sort());
    const progress = await dispatch(request("GET", `/api/rescans/${begun.rescanId}`), deps);
    expect(progress.body).toMatchObject({ status: "queued", counts: { queued: 5, failed: 0 } });
    // nothing left to resume
    expect(await resumeInterruptedRescans(deps, { staleAfterMs: 0 })).toEqual([]);
  });

  it("leaves a run whose heartbeat is recent alone, and closes an interrupted sweep's run", async () => {
    const deps = makeDeps();
    await seed(deps, "team/app", 1);
    const live = await beginHistoricalRescan(deps, { repository: "*" });
    await writeRescanRun(deps.tables, {
      ...{ rescanId: "scheduled-2026060111", cause: "scheduled", repository: "", allDigests: false },
      ...{ status: "queuing", total: 7, createdAt: "2026-06-01T11:15:00.000Z" },
    });
    const closed = await resumeInterruptedRescans(deps, { staleAfterMs: 10 * 60_000 });
    expect(closed.map((r) => [r.rescanId, r.status])).toEqual([["scheduled-2026060111", "failed"]]);
    expect(closed[0]!.reason).toMatch(/interrupted after 7 image\(s\); the next sweep/);
    expect((await readRescanRun(deps.tables, live.rescanId))?.status).toBe("queuing");
  });
});

describe("POST /api/rescans on the local server", () => {
  it("needs the hook token even on loopback; the progress stays readable without it", async () => {
    const deps = makeDeps();
    await seed(deps, "team/app", 1);
    const server = await startHttpServer(deps, { host: "127.0.0.1", port: 0 });
    try {
      const start = (headers: Record<string, string>) =>
        fetch(`${server.url}/api/rescans`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ repository: `${REGISTRY}/team/app` }),
        });
      expect((await start({})).status).toBe(401);
      expect((await start({ authorization: "Bearer wrong" })).status).toBe(401);
      expect(deps.bus.peek("matching")).toHaveLength(0);
      const accepted = await start({ authorization: "Bearer t" });
      expect(accepted.status).toBe(202);
      const { statusUrl } = (await accepted.json()) as { statusUrl: string };
      expect((await fetch(`${server.url}${statusUrl}`)).status).toBe(200);
      expect(deps.bus.peek("matching")).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("the gate records who asks", () => {
  it("stamps the image's row at most once a minute, and a verdict keeps the stamp", async () => {
    const deps = makeDeps();
    const image = await seed(deps, "team/app", 1);
    const ref = `${REGISTRY}/team/app@${image.digest}`;
    const first = new Date("2026-06-02T00:00:00Z");
    await gate(deps.tables, ref, { now: () => first, log: () => {} });
    await gate(deps.tables, ref, { now: () => new Date(first.getTime() + 30_000), log: () => {} });
    const row = () => readScannedImage(deps.tables, `${REGISTRY}/team/app`, image.digest);
    expect((await row())?.lastGateQueryAt).toBe(first.toISOString());
    await writeScannedImage(deps.tables, { ...image, scannedAt: "2026-06-03T00:00:00.000Z" });
    expect((await row())?.lastGateQueryAt).toBe(first.toISOString());
  });
});

describe("the sweep's schedule (PORTCULLIS_RESCAN_SCHEDULE)", () => {
  it.each([
    ["0 15 * * * *", { everyHours: 1, minute: 15 }],
    ["0 0 */6 * * *", { everyHours: 6, minute: 0 }],
    ["0  5  0/12 * * *", { everyHours: 12, minute: 5 }],
  ])("reads %s", (text, cadence) => {
    expect(parseCadence(text)).toEqual(cadence);
    expect(parseCadence(ncrontab(cadence))).toEqual(cadence);
  });

  it.each([
    "",
    "*/5 * * * * *",
    "0 61 * * * *",
    "0 0 */5 * * *",
    "0 0 */0 * * *",
    "0 0 * * * 1",
    "0 0 1-5 * * *",
    `0 ${"9".repeat(10_000)} * * * *`,
    "0 0 * * *\n* *",
  ])("refuses %j with the reason, and so does the settings schema", (text) => {
    expect(() => parseCadence(text)).toThrow(RangeError);
    const parsed = SettingsSchema.safeParse({ PORTCULLIS_RESCAN_SCHEDULE: text });
    expect(parsed.success).toBe(false);
  });

  it("drives the rescan timer on both hosts; the other jobs keep their schedule", () => {
    const settings = SettingsSchema.parse({ PORTCULLIS_RESCAN_SCHEDULE: "0 30 */2 * * *" });
    expect(jobCadence("rescan", settings)).toEqual({ everyHours: 2, minute: 30 });
    expect(ncrontab(jobCadence("rescan", SettingsSchema.parse({})))).toBe("0 15 * * * *");
    expect(jobCadence("dbRefresh", settings)).toEqual({ everyHours: 6, minute: 0 });
  });
});
