import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPipelineDeps } from "../../shared/composition/build-pipeline-deps.js";
import { scanIdOf } from "../../shared/model/messages.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { sweepImagesInUse } from "../../shared/stages/jobs/scheduled-rescan.js";
import { readRescanProgress } from "../../shared/stages/rescan-runs.js";
import { createScan } from "../../shared/stages/scan-state.js";
import { markImageStale, readScannedImage, writeScannedImage } from "../../shared/stages/scanned-images.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

/** The sweep when the registry cannot answer: nothing is marked stale on an error, every image is kept in. */
let dir: string;
let deadPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-sweep-"));
  // a loopback port nobody listens on: bind one, note it, close it
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  deadPort = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the still-in-use sweep, registry unreachable", () => {
  it("keeps every image in, says why in the log, and marks none stale", async () => {
    const registry = `127.0.0.1:${deadPort}`;
    const tables = new MemoryTableStore();
    const bus = new MemoryBus();
    const logs: string[] = [];
    const now = new Date("2026-06-10T00:00:00Z");
    const deps = buildPipelineDeps({
      ...{ tables, bus, blobs: new FsBlobStore(dir), dbStore: new FsBlobStore(dir), policy: DEFAULT_POLICY },
      registry: { insecureRegistries: [registry], retry: { maxAttempts: 1 } },
      now: () => now,
      log: (m) => logs.push(m),
    });
    const platform = { os: "linux", architecture: "amd64" };
    for (const n of [1, 2]) {
      const digest = `sha256:${String(n).repeat(64)}`;
      const scanId = scanIdOf({ registry, repository: "team/app", digest, platform });
      const at = "2026-06-01T00:00:00.000Z";
      await createScan(tables, {
        ...{ scanId, kind: "platform", status: "done", registry, repository: "team/app", digest, platform },
        ...{ tags: [`v${n}`], layers: [], pending: [], children: [], createdAt: at, updatedAt: at },
      });
      const image = {
        ...{ registry, repository: "team/app", digest, scanId, tags: [`v${n}`], platform, os: "" },
        ...{ status: "done" as const, decision: "pass", reasons: [], counts: {}, findings: 0, packages: 0 },
        ...{ dbVersion: "v1", inventoryKey: `inventories/${n}.json`, reportKey: "r", scannedAt: at },
      };
      await writeScannedImage(tables, image);
      if (n === 2) await markImageStale(tables, { ...image }, new Date("2026-06-05T00:00:00Z"));
    }

    const result = await sweepImagesInUse(deps, {
      runId: "2026061000",
      olderThanHours: 24,
      gateWindowHours: 24,
    });
    expect(result).toMatchObject({ queued: 2, stale: 0, failed: 0, tagLookups: 2 });
    expect(bus.peek("matching").map((m) => m.body)).toEqual([
      expect.objectContaining({ cause: "scheduled", rescanId: "scheduled-2026061000" }),
      expect.objectContaining({ cause: "scheduled", rescanId: "scheduled-2026061000" }),
    ]);
    expect(logs.join("\n")).toMatch(new RegExp(`${registry}/team/app:v1: .+`));
    // an unanswered lookup proves nothing either way: the earlier stale mark stays as it was
    const second = await readScannedImage(tables, `${registry}/team/app`, `sha256:${"2".repeat(64)}`);
    expect(second?.staleSince).toBe("2026-06-05T00:00:00.000Z");
    expect((await readRescanProgress(tables, result.rescanId))?.counts).toMatchObject({
      queued: 2,
      stale: 0,
    });
  });
});
