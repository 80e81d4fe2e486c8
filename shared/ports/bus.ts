import type { z } from "zod";

/**
 * The message bus between the stages: one queue per stage (`QUEUE_NAMES` in model/messages.ts).
 * Adapters: Azure Service Bus (`service-bus.ts`, sender only — Functions Service Bus triggers
 * receive), Azure Storage Queues / Azurite for the local host (`storage-queue-bus.ts`) and memory for
 * unit tests (`test/support/memory-bus.ts`).
 *
 * Delivery is at least once. A handler that throws sees the message again after the visibility
 * timeout, with a higher `deliveryCount`; after `maxDeliveries` failed deliveries, or at once for an
 * error `isPermanent` says retrying cannot fix, the message moves to `<queue>-poison` and `onPoison`
 * fires (the pipeline marks the scan failed there). Never an endless loop, never a silent drop.
 */

export interface SendOptions {
  /** deterministic (`messageId()` in model/messages.ts): duplicates within the window are dropped */
  messageId: string;
  /** deliver no earlier than this many seconds from now */
  delaySeconds?: number;
}

export interface OutgoingMessage extends SendOptions {
  body: unknown;
}

export interface BusSender {
  send(queue: string, body: unknown, options: SendOptions): Promise<void>;
  /** Many messages to one queue (a layer fan-out), in as few round trips as the transport allows. */
  sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Messages waiting in a queue (visible, leased or scheduled; approximate where the transport is),
   * so a job that fills a queue can hold back while it is deep. Absent on a sender that cannot tell.
   */
  depth?(queue: string): Promise<number>;
  close(): Promise<void>;
}

export interface Delivery<T = unknown> {
  queue: string;
  messageId: string;
  body: T;
  /** 1 on the first delivery */
  deliveryCount: number;
  enqueuedAt?: Date;
}

export interface PoisonReason {
  /** "permanent": the handler threw an error retrying cannot fix; "max-deliveries": it kept failing
   * (or kept dying); "invalid": the message could not be decoded or did not match its schema */
  kind: "permanent" | "max-deliveries" | "invalid";
  message: string;
  deliveryCount: number;
  error?: unknown;
}

/** What `onPoison` gets: the body is whatever could be decoded (`undefined` if nothing could). */
export interface PoisonedMessage {
  queue: string;
  messageId: string;
  body: unknown;
}

export interface SubscribeOptions<T> {
  /** deliveries before a failing message is poisoned (Service Bus MaxDeliveryCount) */
  maxDeliveries: number;
  /** how long a received message stays invisible (peek-lock duration); renewed while the handler runs */
  visibilityTimeoutSeconds: number;
  /** handlers running at once */
  concurrency: number;
  /** validates the body before the handler sees it; a mismatch poisons the message at once */
  schema?: z.ZodType<T>;
  /** the pipeline marks the scan failed here; if it throws, the message is retried a few times */
  onPoison(message: PoisonedMessage, reason: PoisonReason): Promise<void> | void;
  /** transport and callback failures that are retried rather than thrown (for logging) */
  onError?(error: unknown): void;
}

export type MessageHandler<T> = (delivery: Delivery<T>) => Promise<void>;

export interface Subscription {
  /** Stops receiving and waits for the handlers in flight to finish. */
  stop(): Promise<void>;
}

export interface BusReceiver {
  subscribe<T>(queue: string, handler: MessageHandler<T>, options: SubscribeOptions<T>): Subscription;
}

export interface Bus extends BusSender, BusReceiver {}

export const poisonQueueName = (queue: string): string => `${queue}-poison`;

/**
 * Messages carry keys, not content. The largest JSON body every transport takes (Storage Queues hold
 * 64 KiB of base64 including our envelope); every adapter enforces it, so a test on memory fails
 * where production would.
 */
export const MAX_MESSAGE_BYTES = 45 * 1024;

export function assertMessageSize(queue: string, messageId: string, json: string): void {
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new RangeError(
      `message ${messageId} to ${queue} is ${bytes} bytes (max ${MAX_MESSAGE_BYTES}): store it as a blob`,
    );
  }
}
