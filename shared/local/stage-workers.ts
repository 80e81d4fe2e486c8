import type { z } from "zod";
import type { Bus, Subscription } from "../ports/bus.js";
import { failScanOfMessage } from "../composition/poisoned-scan.js";
import {
  runStage,
  STAGE_HANDLERS,
  STAGE_QUEUES,
  type StageHandlers,
  type StageQueue,
  schemaOf,
} from "../composition/stage-handlers.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";

export interface StageWorkerOptions {
  maxDeliveries: number;
  visibilityTimeoutSeconds: number;
  /** handlers at once per queue; layer analysis gets the most, it is where the time goes */
  concurrency: Partial<Record<StageQueue, number>>;
}

export const DEFAULT_STAGE_WORKERS: StageWorkerOptions = {
  maxDeliveries: 5,
  visibilityTimeoutSeconds: 60,
  concurrency: { "scan-requests": 4, "layer-analysis": 4, matching: 2, verdict: 2 },
};

/**
 * Subscribes every stage to its queue on the local bus: messages validated against the queue's
 * schema, retried with the bus's visibility timeout, and poisoned ones fail their scan with the reason.
 */
export function subscribeStages(
  bus: Bus,
  deps: PipelineDeps,
  options: StageWorkerOptions = DEFAULT_STAGE_WORKERS,
  handlers: StageHandlers = STAGE_HANDLERS,
): Subscription[] {
  return STAGE_QUEUES.map((queue) =>
    bus.subscribe<unknown>(queue, (delivery) => runStage(queue, delivery.body as never, deps, handlers), {
      maxDeliveries: options.maxDeliveries,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      concurrency: options.concurrency[queue] ?? 1,
      schema: schemaOf(queue) as z.ZodType<unknown>,
      onPoison: (message, reason) =>
        failScanOfMessage(deps.tables, queue, message.body, `${queue}: ${reason.message}`, deps),
      onError: (err) => deps.log(`${queue}: ${(err as Error).message ?? String(err)} (will retry)`),
    }),
  );
}
