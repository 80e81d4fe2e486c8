import { isPermanent } from "../model/errors.js";
import {
  type Delivery,
  type MessageHandler,
  type PoisonReason,
  poisonQueueName,
  type SubscribeOptions,
  type Subscription,
} from "./bus.js";
import { decodeEnvelope, type Envelope, type Lease, type QueueTransport } from "./queue-transport.js";

/** A subscription of an in-process bus, which can be told that its queue just got a message. */
export interface LocalSubscription extends Subscription {
  /** ends an idle wait at once: a send from this process need not wait out the poll backoff */
  nudge(): void;
}

export interface PollingOptions {
  /** wait after an empty receive, doubling up to `maxIdleMs` */
  minIdleMs: number;
  maxIdleMs: number;
}

/** Extra deliveries granted to a poisoned message whose `onPoison` callback keeps failing. */
const POISON_CALLBACK_RETRIES = 3;
/** Storage Queues return at most 32 messages per receive. */
const MAX_RECEIVE = 32;

/**
 * The at-least-once receive loop over a peek-lock transport: receive → validate → run the handler
 * while renewing the lock → delete on success, give back on failure, poison when retrying is
 * pointless. Used by the Storage Queue and memory buses alike.
 */
export function runSubscription<T>(
  transport: QueueTransport,
  queue: string,
  handler: MessageHandler<T>,
  options: SubscribeOptions<T>,
  polling: PollingOptions,
): LocalSubscription {
  const { maxDeliveries, visibilityTimeoutSeconds: visibility, concurrency } = options;
  if (!(maxDeliveries >= 1 && concurrency >= 1 && visibility > 0)) {
    throw new RangeError(
      "subscribe needs maxDeliveries ≥ 1, concurrency ≥ 1 and a positive visibility timeout",
    );
  }
  const reportError = (err: unknown) => options.onError?.(err);
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let nudged = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function poison(lease: Lease, envelope: Envelope | undefined, reason: PoisonReason): Promise<void> {
    const message = { queue, messageId: envelope?.id ?? "", body: envelope?.body };
    try {
      await options.onPoison(message, reason);
    } catch (err) {
      reportError(err);
      if (lease.deliveryCount < maxDeliveries + POISON_CALLBACK_RETRIES) {
        await transport.release(lease, visibility);
        return;
      }
      reason = { ...reason, message: `${reason.message}; onPoison kept failing: ${errorText(err)}` };
    }
    const poisoned: Envelope = {
      id: envelope?.id ?? "",
      body: envelope ? envelope.body : lease.text,
      enqueuedAt: envelope?.enqueuedAt ?? new Date().toISOString(),
      poison: {
        kind: reason.kind,
        message: reason.message,
        deliveryCount: reason.deliveryCount,
        at: new Date().toISOString(),
      },
    };
    // Poison queue first, delete second: a crash in between duplicates the record, never loses it.
    await transport.send(poisonQueueName(queue), JSON.stringify(poisoned), 0);
    await transport.complete(lease);
  }

  async function process(lease: Lease): Promise<void> {
    const deliveryCount = lease.deliveryCount;
    const envelope = decodeEnvelope(lease.text);
    if (!envelope) {
      return poison(lease, undefined, {
        kind: "invalid",
        message: "not a portcullis message envelope",
        deliveryCount,
      });
    }
    if (deliveryCount > maxDeliveries) {
      // Only a handler that died without answering gets here: its lock expired each time.
      const last = envelope.lastError === undefined ? "" : `; last error: ${envelope.lastError}`;
      const message = `delivered ${deliveryCount} times without completing (handler crashed or timed out)${last}`;
      return poison(lease, envelope, { kind: "max-deliveries", message, deliveryCount });
    }
    let body = envelope.body as T;
    if (options.schema) {
      const parsed = options.schema.safeParse(envelope.body);
      if (!parsed.success) {
        const message = `message does not match its schema: ${parsed.error.message}`;
        return poison(lease, envelope, { kind: "invalid", message, deliveryCount, error: parsed.error });
      }
      body = parsed.data;
    }
    const delivery: Delivery<T> = {
      queue,
      messageId: envelope.id,
      body,
      deliveryCount,
      enqueuedAt: new Date(envelope.enqueuedAt),
    };
    // every third of the timeout: a renewal that is late (a busy event loop, a slow storage round
    // trip) still has the next one before the lock runs out
    const renewal = setInterval(
      () => {
        transport.extend(lease, visibility).catch(reportError);
      },
      (visibility * 1000) / 3,
    );
    let failure: unknown;
    let failed = false;
    try {
      await handler(delivery);
    } catch (err) {
      failed = true;
      failure = err;
    } finally {
      clearInterval(renewal);
    }
    if (!failed) return transport.complete(lease);
    if (isPermanent(failure)) {
      return poison(lease, envelope, {
        kind: "permanent",
        message: errorText(failure),
        deliveryCount,
        error: failure,
      });
    }
    if (deliveryCount >= maxDeliveries) {
      const message = `failed ${deliveryCount} times, last: ${errorText(failure)}`;
      return poison(lease, envelope, { kind: "max-deliveries", message, deliveryCount, error: failure });
    }
    reportError(failure);
    // bounded, so the rewritten envelope stays within the queue's message size
    const lastError = errorText(failure).slice(0, 2000);
    await transport.release(lease, visibility, JSON.stringify({ ...envelope, lastError }));
  }

  async function loop(): Promise<void> {
    let idle = polling.minIdleMs;
    while (!stopping) {
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      let leases: Lease[];
      try {
        leases = await transport.receive(queue, Math.min(free, MAX_RECEIVE), visibility);
      } catch (err) {
        reportError(err);
        await pause(polling.maxIdleMs);
        continue;
      }
      if (leases.length === 0) {
        if (nudged) {
          // a message was sent while this receive ran: look again before sleeping
          nudged = false;
          idle = polling.minIdleMs;
          continue;
        }
        await pause(idle);
        idle = Math.min(idle * 2, polling.maxIdleMs);
        continue;
      }
      idle = polling.minIdleMs;
      for (const lease of leases) {
        // A failure here (transport down while completing) leaves the message to reappear: not lost.
        const running: Promise<void> = process(lease)
          .catch(reportError)
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
      // a transport that answers synchronously (SQLite) would otherwise keep I/O (the HTTP API) waiting
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  const looping = loop();
  return {
    nudge() {
      nudged = true;
      wake?.();
    },
    async stop() {
      stopping = true;
      wake?.();
      await looping;
      await Promise.allSettled([...inFlight]);
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
