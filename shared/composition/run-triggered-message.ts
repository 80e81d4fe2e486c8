import { z } from "zod";
import { isPermanent } from "../model/errors.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import { failScanOfMessage } from "./poisoned-scan.js";
import { runStage, type StageQueue, schemaOf } from "./stage-handlers.js";

/**
 * A stage message as a Functions Service Bus trigger delivers it. The runtime redelivers on a
 * throw and dead-letters after the queue's MaxDeliveryCount; it has no poison callback, so this
 * does what the local bus's `onPoison` does: an invalid message or a permanent error fails the scan
 * and completes the message (no retry can help); the last failing delivery fails the scan, then
 * rethrows so the message still lands in the dead-letter queue.
 */
export async function runTriggeredMessage(
  queue: StageQueue,
  body: unknown,
  delivery: { deliveryCount: number; maxDeliveries: number },
  deps: PipelineDeps,
): Promise<void> {
  const parsed = schemaOf(queue).safeParse(typeof body === "string" ? safeJson(body) : body);
  if (!parsed.success) {
    const reason = `${queue}: message does not match its schema: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`;
    await failScanOfMessage(deps.tables, queue, body, reason, deps);
    return;
  }
  try {
    await runStage(queue, parsed.data, deps);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isPermanent(err)) {
      await failScanOfMessage(deps.tables, queue, parsed.data, message, deps);
      return;
    }
    if (delivery.deliveryCount >= delivery.maxDeliveries)
      await failScanOfMessage(
        deps.tables,
        queue,
        parsed.data,
        `failed ${delivery.deliveryCount} times, last: ${message}`,
        deps,
      );
    throw err;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
