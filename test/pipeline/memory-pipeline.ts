// The whole pipeline in memory (MemoryBus, MemoryTableStore, a temp-dir BlobStore, FakeRegistry).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildPipelineDeps } from "../../shared/composition/build-pipeline-deps.js";
import {
  STAGE_HANDLERS,
  STAGE_QUEUES,
  type StageHandlers,
  type StageQueue,
} from "../../shared/stages/stage-queues.js";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { DEFAULT_STAGE_WORKERS, subscribeStages } from "../../shared/local/stage-workers.js";
import type { Subscription } from "../../shared/ports/bus.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { DEFAULT_POLICY, type Policy } from "../../shared/policy/policy.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { FakeRegistry } from "./fake-registry.js";
import { writeTestDb } from "./test-db.js";

export const HOOK_TOKEN = "test-hook-token";

export interface MemoryPipeline {
  registry: FakeRegistry;
  tables: MemoryTableStore;
  bus: MemoryBus;
  blobs: FsBlobStore;
  deps: PipelineDeps;
  http: HttpDeps;
  logs: string[];
  /** deliveries each stage saw (redeliveries included) */
  deliveries: Record<keyof StageHandlers, number>;
  start(handlers?: Partial<StageHandlers>): void;
  stop(): Promise<void>;
}

/**
 * Builds the pipeline; `start` subscribes the stages (optionally wrapping some). The bus's duplicate
 * window is off by default so the stages' own idempotence is what the tests see.
 */
export async function memoryPipeline(
  options: {
    duplicateWindowSeconds?: number;
    maxDeliveries?: number;
    policy?: Policy;
    /** the clock of the stages and the HTTP routes (accepted risks expire against it) */
    now?: () => Date;
  } = {},
): Promise<MemoryPipeline> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-pipeline-"));
  const blobs = new FsBlobStore(dir);
  await writeTestDb(blobs);
  const tables = new MemoryTableStore();
  const bus = new MemoryBus({ duplicateWindowSeconds: options.duplicateWindowSeconds ?? 0 });
  const registry = new FakeRegistry();
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  const deps = buildPipelineDeps({
    tables,
    blobs,
    bus,
    dbStore: blobs,
    registry: {},
    policy: options.policy ?? DEFAULT_POLICY,
    openSource: registry.openSource,
    db: { offline: true },
    log,
    ...(options.now ? { now: options.now } : {}),
  });
  const http: HttpDeps = {
    tables,
    blobs,
    bus,
    now: options.now ?? (() => new Date()),
    log,
    hookAuth: { bearerToken: HOOK_TOKEN },
  };
  const deliveries = Object.fromEntries(STAGE_QUEUES.map((queue) => [queue, 0])) as Record<
    StageQueue,
    number
  >;
  let subscriptions: Subscription[] = [];
  return {
    registry,
    tables,
    bus,
    blobs,
    deps,
    http,
    logs,
    deliveries,
    start(handlers = {}) {
      const all = { ...STAGE_HANDLERS, ...handlers };
      const counted = Object.fromEntries(
        Object.entries(all).map(([queue, handler]) => [
          queue,
          (msg: never, d: PipelineDeps) => {
            deliveries[queue as keyof StageHandlers]++;
            return (handler as (m: never, d: PipelineDeps) => Promise<void>)(msg, d);
          },
        ]),
      ) as unknown as StageHandlers;
      subscriptions = subscribeStages(
        bus,
        deps,
        {
          maxDeliveries: options.maxDeliveries ?? 3,
          // renewed every half of it while a handler runs: long enough that an event loop stalled by a
          // loaded CI machine does not let a running message be delivered again
          visibilityTimeoutSeconds: 1,
          // matching as many at once as the local host runs (rescans race each other there too)
          concurrency: {
            "scan-requests": 2,
            "layer-analysis": 8,
            matching: DEFAULT_STAGE_WORKERS.concurrency.matching ?? 4,
            verdict: 2,
          },
        },
        counted,
      );
    },
    async stop() {
      await Promise.all(subscriptions.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
