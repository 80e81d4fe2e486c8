import type {
  Bus,
  MessageHandler,
  OutgoingMessage,
  SendOptions,
  SubscribeOptions,
  Subscription,
} from "./bus.js";
import { DuplicateWindow } from "./duplicate-window.js";
import { type LocalSubscription, type PollingOptions, runSubscription } from "./queue-subscription.js";
import { encodeEnvelope, type QueueTransport } from "./queue-transport.js";

export interface TransportBusOptions {
  polling?: Partial<PollingOptions>;
  /** duplicate-detection history (Service Bus default: 10 minutes) */
  duplicateWindowSeconds?: number;
}

/** Messages per commit of a batch send: bounds one transaction's size and time. */
const BATCH_COMMIT_SIZE = 500;

/** Service Bus's default duplicate-detection history. */
const DEFAULT_DUPLICATE_WINDOW_SECONDS = 600;

/** A Bus over any peek-lock QueueTransport: envelopes, the duplicate window and the receive loops. */
export class TransportBus implements Bus {
  readonly #transport: QueueTransport;
  readonly #duplicates: DuplicateWindow;
  readonly #duplicateWindowSeconds: number;
  readonly #polling: PollingOptions;
  readonly #subscriptions = new Set<Subscription>();
  /** this process's receive loops by queue: a local send wakes them instead of waiting for their next poll */
  readonly #listeners = new Map<string, Set<LocalSubscription>>();

  constructor(transport: QueueTransport, polling: PollingOptions, options: TransportBusOptions = {}) {
    this.#transport = transport;
    this.#duplicateWindowSeconds = options.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS;
    this.#duplicates = new DuplicateWindow({ windowSeconds: this.#duplicateWindowSeconds });
    this.#polling = { ...polling, ...options.polling };
  }

  async send(queue: string, body: unknown, options: SendOptions): Promise<void> {
    const envelope = encodeEnvelope(queue, options.messageId, body);
    const delay = options.delaySeconds ?? 0;
    const transport = this.#transport;
    const sent = transport.sendUnique
      ? await transport.sendUnique(queue, options.messageId, envelope, delay, this.#duplicateWindowSeconds)
      : await this.#duplicates.sendOnce(options.messageId, () => transport.send(queue, envelope, delay));
    if (!sent) return;
    if (!options.delaySeconds) this.#nudge(queue);
  }

  async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const transport = this.#transport;
    if (transport.sendUniqueMany) {
      // one durable commit per chunk instead of one per message (an fsync each on the local store)
      for (let i = 0; i < messages.length; i += BATCH_COMMIT_SIZE) {
        const chunk = messages.slice(i, i + BATCH_COMMIT_SIZE).map(({ body, messageId, delaySeconds }) => ({
          messageId,
          envelopeJson: encodeEnvelope(queue, messageId, body),
          delaySeconds: delaySeconds ?? 0,
        }));
        const sent = await transport.sendUniqueMany(queue, chunk, this.#duplicateWindowSeconds);
        if (sent.some((s, j) => s && !chunk[j]!.delaySeconds)) this.#nudge(queue);
      }
      return;
    }
    // Queues without a batch send: parallel single sends, bounded to keep sockets in check.
    for (let i = 0; i < messages.length; i += 16) {
      await Promise.all(
        messages.slice(i, i + 16).map(({ body, ...options }) => this.send(queue, body, options)),
      );
    }
  }

  async depth(queue: string): Promise<number> {
    return this.#transport.depth(queue);
  }

  #nudge(queue: string): void {
    for (const listener of this.#listeners.get(queue) ?? []) listener.nudge();
  }

  subscribe<T>(queue: string, handler: MessageHandler<T>, options: SubscribeOptions<T>): Subscription {
    const subscription = runSubscription(this.#transport, queue, handler, options, this.#polling);
    this.#subscriptions.add(subscription);
    const listeners = this.#listeners.get(queue) ?? new Set<LocalSubscription>();
    listeners.add(subscription);
    this.#listeners.set(queue, listeners);
    return {
      stop: async () => {
        this.#subscriptions.delete(subscription);
        listeners.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    this.#subscriptions.clear();
  }
}
