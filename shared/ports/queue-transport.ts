import { z } from "zod";
import { assertMessageSize } from "./bus.js";

/**
 * What a peek-lock queue offers, reduced to the five operations the at-least-once loop in
 * `queue-subscription.ts` needs. Storage Queues and the memory queues implement it; the loop, its
 * lock renewal and its poison handling are written once.
 */
export interface QueueTransport {
  /** Up to `max` visible messages, each hidden for `visibilitySeconds` and counted as one more delivery. */
  receive(queue: string, max: number, visibilitySeconds: number): Promise<Lease[]>;
  /** Lock renewal: keep the message hidden for another `visibilitySeconds`. */
  extend(lease: Lease, visibilitySeconds: number): Promise<void>;
  /** Give the message back: visible again after `delaySeconds`, its text replaced when one is given. */
  release(lease: Lease, delaySeconds: number, envelopeJson?: string): Promise<void>;
  /** Done: delete it. */
  complete(lease: Lease): Promise<void>;
  send(queue: string, envelopeJson: string, delaySeconds: number): Promise<void>;
  /**
   * A transport with its own durable duplicate detection: sends unless `messageId` went to `queue`
   * within `windowSeconds`, checked and recorded atomically with the send. False for a duplicate.
   * Without it, the bus keeps the window in memory (`duplicate-window.ts`).
   */
  sendUnique?(
    queue: string,
    messageId: string,
    envelopeJson: string,
    delaySeconds: number,
    windowSeconds: number,
  ): Promise<boolean>;
  /**
   * `sendUnique` for many messages to one queue in one durable commit: each message keeps its own
   * duplicate check. True per message sent, false per duplicate (also a repeat inside the batch).
   */
  sendUniqueMany?(
    queue: string,
    messages: readonly { messageId: string; envelopeJson: string; delaySeconds: number }[],
    windowSeconds: number,
  ): Promise<boolean[]>;
  /** Messages in the queue, visible or not (Storage Queues: approximate). */
  depth(queue: string): Promise<number>;
}

export interface Lease {
  queue: string;
  /** the envelope JSON as received */
  text: string;
  /** the transport's delivery counter (Storage Queues: dequeueCount) */
  deliveryCount: number;
  /** transport state (message id + pop receipt); may change on extend */
  handle: unknown;
}

/**
 * Our envelope on local queues: Storage Queues assign their own message ids, so the deterministic
 * id travels in the body, with the time it was sent; a poisoned message also carries why.
 */
export const EnvelopeSchema = z.object({
  /** empty for a foreign message found on our queue and poisoned */
  id: z.string(),
  body: z.unknown(),
  enqueuedAt: z.string(),
  /** the last error a handler threw on it, so a later crash does not hide the real cause */
  lastError: z.string().optional(),
  poison: z
    .object({ kind: z.string(), message: z.string(), deliveryCount: z.number(), at: z.string() })
    .optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export function encodeEnvelope(queue: string, messageId: string, body: unknown): string {
  const json = JSON.stringify({
    id: messageId,
    body,
    enqueuedAt: new Date().toISOString(),
  } satisfies Envelope);
  assertMessageSize(queue, messageId, json);
  return json;
}

/** `undefined` when the text is not one of our envelopes (a foreign or corrupted message). */
export function decodeEnvelope(text: string): Envelope | undefined {
  try {
    const parsed = EnvelopeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
