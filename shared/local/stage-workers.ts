import type { Bus, Subscription } from "../ports/bus.js";
import { stageSubscription } from "../stages/dispatch.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import {
  STAGE_HANDLERS,
  STAGE_QUEUES,
  STAGES,
  type StageHandlers,
  type StageQueue,
} from "../stages/stage-queues.js";

export interface StageWorkerOptions {
  maxDeliveries: number;
  visibilityTimeoutSeconds: number;
  /** handlers at once per queue (default: the stage's `localConcurrency`, else 1) */
  concurrency: Partial<Record<StageQueue, number>>;
}

export const DEFAULT_STAGE_WORKERS: StageWorkerOptions = {
  maxDeliveries: 5,
  visibilityTimeoutSeconds: 60,
  concurrency: Object.fromEntries(
    STAGE_QUEUES.map((queue) => [
      queue,
      (STAGES[queue] as { localConcurrency?: number }).localConcurrency ?? 1,
    ]),
  ),
};

/**
 * Subscribes every stage to its queue on the local bus: messages validated against the queue's
 * schema, retried with the bus's visibility timeout, and poisoned ones fail their scan with the
 * reason (the rule is stages/dispatch.ts's, shared with the Functions triggers).
 */
export function subscribeStages(
  bus: Bus,
  deps: PipelineDeps,
  options: StageWorkerOptions = DEFAULT_STAGE_WORKERS,
  handlers: StageHandlers = STAGE_HANDLERS,
): Subscription[] {
  return STAGE_QUEUES.map((queue) =>
    bus.subscribe<unknown>(
      queue,
      ...stageSubscription(
        queue,
        deps,
        {
          maxDeliveries: options.maxDeliveries,
          visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
          concurrency: options.concurrency[queue] ?? 1,
        },
        handlers,
      ),
    ),
  );
}
