import type { TokenCredential } from "@azure/core-auth";
import { type QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { Lease, QueueTransport } from "./queue-transport.js";
import { TransportBus, type TransportBusOptions } from "./transport-bus.js";

export type StorageQueueBusOptions = (
  | { connectionString: string }
  | { accountUrl: string; credential: TokenCredential }
) &
  TransportBusOptions;

/** Storage queue names: lower-case letters, digits and single hyphens, 3–63 characters. */
const QUEUE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

interface StorageHandle {
  messageId: string;
  popReceipt: string;
}

/**
 * The local host's bus: Azure Storage Queues on the embedded Azurite (or a real account). Visibility
 * timeout ≈ peek-lock, dequeueCount ≈ delivery count, `<queue>-poison` ≈ dead-letter queue. Bodies
 * are base64 JSON — what a Functions queue trigger expects by default.
 */
export class StorageQueueBus extends TransportBus {
  constructor(options: StorageQueueBusOptions) {
    const service =
      "connectionString" in options
        ? QueueServiceClient.fromConnectionString(options.connectionString)
        : new QueueServiceClient(options.accountUrl, options.credential);
    const transport = new StorageQueueTransport(service);
    super(transport, { minIdleMs: 50, maxIdleMs: 1000 }, options);
  }
}

class StorageQueueTransport implements QueueTransport {
  readonly #service: QueueServiceClient;
  readonly #queues = new Map<string, Promise<QueueClient>>();

  constructor(service: QueueServiceClient) {
    this.#service = service;
  }

  queue(queue: string): Promise<QueueClient> {
    if (!QUEUE_NAME.test(queue)) throw new TypeError(`invalid storage queue name "${queue}"`);
    let client = this.#queues.get(queue);
    if (!client) {
      const queueClient = this.#service.getQueueClient(queue);
      client = queueClient.createIfNotExists().then(() => queueClient);
      client.catch(() => this.#queues.delete(queue));
      this.#queues.set(queue, client);
    }
    return client;
  }

  async depth(queue: string): Promise<number> {
    const properties = await (await this.queue(queue)).getProperties();
    return properties.approximateMessagesCount ?? 0;
  }

  async receive(queue: string, max: number, visibilitySeconds: number): Promise<Lease[]> {
    const client = await this.queue(queue);
    const response = await client.receiveMessages({
      numberOfMessages: max,
      visibilityTimeout: wholeSeconds(visibilitySeconds, 1),
    });
    return response.receivedMessageItems.map((item) => ({
      queue,
      text: Buffer.from(item.messageText, "base64").toString("utf8"),
      deliveryCount: item.dequeueCount,
      handle: { messageId: item.messageId, popReceipt: item.popReceipt } satisfies StorageHandle,
    }));
  }

  async extend(lease: Lease, visibilitySeconds: number): Promise<void> {
    const handle = lease.handle as StorageHandle;
    const client = await this.queue(lease.queue);
    const response = await client.updateMessage(
      handle.messageId,
      handle.popReceipt,
      undefined,
      wholeSeconds(visibilitySeconds, 1),
    );
    // Every update hands out a new pop receipt; the old one no longer deletes the message.
    if (response.popReceipt) handle.popReceipt = response.popReceipt;
  }

  async release(lease: Lease, delaySeconds: number, envelopeJson?: string): Promise<void> {
    const handle = lease.handle as StorageHandle;
    const client = await this.queue(lease.queue);
    const text =
      envelopeJson === undefined ? undefined : Buffer.from(envelopeJson, "utf8").toString("base64");
    await client.updateMessage(handle.messageId, handle.popReceipt, text, wholeSeconds(delaySeconds, 0));
  }

  async complete(lease: Lease): Promise<void> {
    const handle = lease.handle as StorageHandle;
    await (await this.queue(lease.queue)).deleteMessage(handle.messageId, handle.popReceipt);
  }

  async send(queue: string, envelopeJson: string, delaySeconds: number): Promise<void> {
    const client = await this.queue(queue);
    await client.sendMessage(Buffer.from(envelopeJson, "utf8").toString("base64"), {
      visibilityTimeout: wholeSeconds(delaySeconds, 0),
      messageTimeToLive: -1, // the default is 7 days: a paused local host must not lose work
    });
  }
}

/** Storage Queues count in whole seconds, up to 7 days. */
function wholeSeconds(seconds: number, min: number): number {
  return Math.min(Math.max(Math.ceil(seconds), min), MAX_DELAY_SECONDS);
}
