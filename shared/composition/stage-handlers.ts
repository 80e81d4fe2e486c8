import { MESSAGE_SCHEMAS, type MessageOf } from "../model/messages.js";
import { analyzeLayerStage } from "../stages/analyze-layer-stage.js";
import { matchStage } from "../stages/match-stage.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import { resolveScan } from "../stages/resolve-scan.js";
import { trackingStage } from "../stages/tracking-stage.js";
import { verdictStage } from "../stages/verdict-stage.js";

/** The queues with a stage behind them. */
export const STAGE_QUEUES = ["scan-requests", "layer-analysis", "matching", "verdict", "tracking"] as const;
export type StageQueue = (typeof STAGE_QUEUES)[number];

export type StageHandler<Q extends StageQueue> = (message: MessageOf<Q>, deps: PipelineDeps) => Promise<void>;

/** Queue → stage: what both hosts subscribe. */
export type StageHandlers = { [Q in StageQueue]: StageHandler<Q> };

export const STAGE_HANDLERS: StageHandlers = {
  "scan-requests": resolveScan,
  "layer-analysis": analyzeLayerStage,
  matching: matchStage,
  verdict: verdictStage,
  tracking: trackingStage,
};

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
