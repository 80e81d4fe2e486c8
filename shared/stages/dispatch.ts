import { z } from "zod";
import { isPermanent } from "../model/errors.js";
import { ScanIdSchema } from "../model/messages.js";
import type { Delivery, SubscribeOptions } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { failScan } from "./scan-state.js";
import { runStage, type StageHandlers, type StageQueue, STAGE_HANDLERS, schemaOf } from "./stage-queues.js";

/**
 * How a stage message is run and given up on, for both hosts: validated against its queue's schema,
 * retried by the transport on a throw, and — invalid, failing permanently, or out of deliveries —
 * its scan marked failed with the reason. The scan ends visibly, never silently.
 */

/** The poison rule: a message given up on fails its scan with the reason. */
export async function giveUpOnMessage(
  tables: TableStore,
  queue: string,
  body: unknown,
  reason: string,
  deps: { now(): Date; log(message: string): void },
): Promise<void> {
  const scanId = ScanIdSchema.safeParse((body as { scanId?: unknown } | undefined)?.scanId);
  if (!scanId.success) {
    deps.log(`${queue}: gave up on a message without a scan id: ${reason}`);
    return;
  }
  deps.log(`${queue}: scan ${scanId.data} failed: ${reason}`);
  await failScan(tables, scanId.data, reason, deps.now);
}

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
  handlers: StageHandlers = STAGE_HANDLERS,
): Promise<void> {
  const parsed = schemaOf(queue).safeParse(typeof body === "string" ? safeJson(body) : body);
  if (!parsed.success) {
    const reason = `${queue}: message does not match its schema: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`;
    await giveUpOnMessage(deps.tables, queue, body, reason, deps);
    return;
  }
  try {
    await runStage(queue, parsed.data, deps, handlers);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isPermanent(err)) {
      await giveUpOnMessage(deps.tables, queue, parsed.data, message, deps);
      return;
    }
    if (delivery.deliveryCount >= delivery.maxDeliveries)
      await giveUpOnMessage(
        deps.tables,
        queue,
        parsed.data,
        `failed ${delivery.deliveryCount} times, last: ${message}`,
        deps,
      );
    throw err;
  }
}

/**
 * The same rule on a bus that retries and poisons itself (the local host's queues): the handler
 * and subscription options for one stage queue. The bus validates, counts deliveries and calls
 * `onPoison` for invalid, permanently failing and exhausted messages.
 */
export function stageSubscription(
  queue: StageQueue,
  deps: PipelineDeps,
  options: { maxDeliveries: number; visibilityTimeoutSeconds: number; concurrency: number },
  handlers: StageHandlers = STAGE_HANDLERS,
): [(delivery: Delivery<unknown>) => Promise<void>, SubscribeOptions<unknown>] {
  return [
    (delivery) => runStage(queue, delivery.body as never, deps, handlers),
    {
      ...options,
      schema: schemaOf(queue) as z.ZodType<unknown>,
      onPoison: (message, reason) =>
        giveUpOnMessage(deps.tables, queue, message.body, `${queue}: ${reason.message}`, deps),
      onError: (err) => deps.log(`${queue}: ${(err as Error).message ?? String(err)} (will retry)`),
    },
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
