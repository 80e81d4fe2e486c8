import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPipelineDeps } from "../../shared/composition/build-pipeline-deps.js";
import { scanIdOf } from "../../shared/model/messages.js";
import type { Subscription } from "../../shared/ports/bus.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { sweepImagesInUse } from "../../shared/stages/jobs/scheduled-rescan.js";
import { readRescanRun } from "../../shared/stages/rescan-runs.js";
import { createScan } from "../../shared/stages/scan-state.js";
import { recordGateQuery, writeScannedImage } from "../../shared/stages/scanned-images.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

/** The sweep holds its batches back while the matching queue is deeper than the limit (pushes share it). */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-sweep-depth-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the still-in-use sweep and the matching queue's depth", () => {
  it("sends no batch while matching is deeper than the limit, and queues every image once it drains", async () => {
    const registry = "registry.sweep.invalid";
    const tables = new MemoryTableStore();
    const bus = new MemoryBus();
    const logs: string[] = [];
    const now = new Date("2026-06-10T00:00:00Z");
    const deps = buildPipelineDeps({
      ...{ tables, bus, blobs: new FsBlobStore(dir), dbStore: new FsBlobStore(dir), policy: DEFAULT_POLICY },
      registry: {},
      now: () => now,
      log: (m) => logs.push(m),
    });
    const platform = { os: "linux", architecture: "amd64" };
    const at = "2026-06-01T00:00:00.000Z";
    for (const n of [1, 2, 3, 4, 5]) {
      const digest = `sha256:${String(n).repeat(64)}`;
      const scanId = scanIdOf({ registry, repository: "team/app", digest, platform });
      await createScan(tables, {
        ...{ scanId, kind: "platform", status: "done", registry, repository: "team/app", digest, platform },
        ...{ tags: [], layers: [], pending: [], children: [], createdAt: at, updatedAt: at },
      });
      await writeScannedImage(tables, {
        ...{ registry, repository: "team/app", digest, scanId, tags: [], platform, os: "" },
        ...{ status: "done", decision: "pass", reasons: [], counts: {}, findings: 0, packages: 0 },
        ...{ dbVersion: "v1", inventoryKey: `inventories/${n}.json`, reportKey: "r", scannedAt: at },
      });
      // asked about at the gate yesterday: in use, no registry lookup needed
      await recordGateQuery(
        tables,
        { registry, repository: "team/app", digest },
        new Date("2026-06-09T00:00:00Z"),
      );
    }
    // pushes' work already waiting, deeper than the limit
    await bus.sendBatch(
      "matching",
      [1, 2, 3].map((i) => ({ body: { push: i }, messageId: `push-${i}` })),
    );
    const depthsAtSend: number[] = [];
    const sendBatch = bus.sendBatch.bind(bus);
    bus.sendBatch = async (queue, messages) => {
      depthsAtSend.push(await bus.depth("matching"));
      return sendBatch(queue, messages);
    };
    let consumer: Subscription | undefined;
    let waits = 0;
    const result = await sweepImagesInUse(deps, {
      runId: "2026061000",
      olderThanHours: 24,
      gateWindowHours: 48,
      batchSize: 2,
      depthLimit: {
        maxDepth: 2,
        pollMs: 5,
        // the first wait is when a consumer comes along and drains the queue
        sleep: async (ms) => {
          waits++;
          consumer ??= bus.subscribe("matching", async () => {}, {
            maxDeliveries: 3,
            visibilityTimeoutSeconds: 5,
            concurrency: 1,
            onPoison: () => {},
          });
          await new Promise((resolve) => setTimeout(resolve, ms));
        },
      },
    });
    await bus.idle();
    await consumer?.stop();
    expect(result).toMatchObject({ queued: 5, failed: 0, stale: 0 });
    expect(waits).toBeGreaterThan(0);
    expect(depthsAtSend).toHaveLength(3);
    for (const depth of depthsAtSend) expect(depth).toBeLessThanOrEqual(2);
    expect(logs.join("\n")).toMatch(/matching queue holds 3 \(> 2\); holding back/);
    expect(await readRescanRun(tables, result.rescanId)).toMatchObject({ status: "queued", total: 5 });
  });
});
