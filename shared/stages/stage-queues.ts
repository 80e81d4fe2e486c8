import { MESSAGE_SCHEMAS, type MessageOf, type QueueName } from "../model/messages.js";
import { analyzeLayerStage } from "./analyze-layer-stage.js";
import { matchStage } from "./match-stage.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { resolveScan } from "./resolve-stage.js";
import { trackingStage } from "./tracking-stage.js";
import { verdictStage } from "./verdict-stage.js";

export type StageHandler<Q extends QueueName> = (message: MessageOf<Q>, deps: PipelineDeps) => Promise<void>;

interface StageEntry<Q extends QueueName> {
  handle: StageHandler<Q>;
  /** the Functions function that listens on the queue in Azure */
  functionName: string;
  /** handlers at once on the local host (default 1); layer analysis gets the most, it is where the time goes */
  localConcurrency?: number;
}

/**
 * Queue → stage: the one list both hosts subscribe (the local workers and `functions/` loop over
 * it). A new stage is one entry here; a queue without an entry has no consumer yet.
 */
export const STAGES = {
  "scan-requests": { handle: resolveScan, functionName: "stageResolve", localConcurrency: 4 },
  "layer-analysis": { handle: analyzeLayerStage, functionName: "stageLayerAnalysis", localConcurrency: 4 },
  matching: { handle: matchStage, functionName: "stageMatching", localConcurrency: 4 },
  verdict: { handle: verdictStage, functionName: "stageVerdict", localConcurrency: 2 },
  tracking: { handle: trackingStage, functionName: "stageTracking" },
} as const satisfies { [Q in QueueName]?: StageEntry<Q> };

export type StageQueue = keyof typeof STAGES;
export const STAGE_QUEUES = Object.keys(STAGES) as StageQueue[];

/** Queue → handler, replaceable as a whole or per queue (tests). */
export type StageHandlers = { [Q in StageQueue]: StageHandler<Q> };

export const STAGE_HANDLERS = Object.fromEntries(
  STAGE_QUEUES.map((queue) => [queue, STAGES[queue].handle]),
) as StageHandlers;

/** Runs the stage of a queue on a body already validated against the queue's schema. */
export async function runStage(
  queue: StageQueue,
  body: MessageOf<StageQueue>,
  deps: PipelineDeps,
  handlers: StageHandlers = STAGE_HANDLERS,
): Promise<void> {
  const handler = handlers[queue] as StageHandler<StageQueue>;
  await handler(body, deps);
}

export const schemaOf = (queue: StageQueue) => MESSAGE_SCHEMAS[queue];
