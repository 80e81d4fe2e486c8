import {
  ServiceBusAdministrationClient,
  type ServiceBusMessage,
  type ServiceBusSender,
  ServiceBusClient,
  type TokenCredential,
} from "@azure/service-bus";
import { assertMessageSize, type BusSender, type OutgoingMessage, type SendOptions } from "./bus.js";

/** The part of the SDK's sender we use: a test passes a fake that must match these published types. */
export type ServiceBusQueueSender = Pick<ServiceBusSender, "sendMessages" | "createMessageBatch" | "close">;

/** The part of the administration client `depth` uses (it needs Manage rights: Service Bus Data Owner). */
export type ServiceBusQueueRuntime = Pick<ServiceBusAdministrationClient, "getQueueRuntimeProperties">;

/**
 * The production bus, sending side: Azure Service Bus queues with duplicate detection on the
 * deterministic `messageId`. Receiving is done by Functions Service Bus triggers (`functions/`),
 * which give the same at-least-once, MaxDeliveryCount and dead-letter semantics as the local bus.
 */
export class ServiceBusBusSender implements BusSender {
  readonly #senders = new Map<string, ServiceBusQueueSender>();
  readonly #createSender: (queue: string) => ServiceBusQueueSender;
  readonly #closeClient: () => Promise<void>;
  readonly #now: () => Date;
  readonly #runtime: ServiceBusQueueRuntime | undefined;

  constructor(
    createSender: (queue: string) => ServiceBusQueueSender,
    options: { closeClient?: () => Promise<void>; now?: () => Date; runtime?: ServiceBusQueueRuntime } = {},
  ) {
    this.#createSender = createSender;
    this.#runtime = options.runtime;
    this.#closeClient = options.closeClient ?? (async () => {});
    this.#now = options.now ?? (() => new Date());
  }

  /** Identity-based: `<namespace>.servicebus.windows.net` and a managed identity / workload credential. */
  static fromNamespace(fullyQualifiedNamespace: string, credential: TokenCredential): ServiceBusBusSender {
    return ServiceBusBusSender.#fromClient(
      new ServiceBusClient(fullyQualifiedNamespace, credential),
      new ServiceBusAdministrationClient(fullyQualifiedNamespace, credential),
    );
  }

  static fromConnectionString(connectionString: string): ServiceBusBusSender {
    return ServiceBusBusSender.#fromClient(
      new ServiceBusClient(connectionString),
      new ServiceBusAdministrationClient(connectionString),
    );
  }

  static #fromClient(client: ServiceBusClient, runtime: ServiceBusQueueRuntime): ServiceBusBusSender {
    return new ServiceBusBusSender((queue) => client.createSender(queue), {
      closeClient: () => client.close(),
      runtime,
    });
  }

  async send(queue: string, body: unknown, options: SendOptions): Promise<void> {
    await this.#sender(queue).sendMessages(toServiceBusMessage(queue, body, options, this.#now()));
  }

  async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const sender = this.#sender(queue);
    const now = this.#now();
    let batch = await sender.createMessageBatch();
    for (const { body, ...options } of messages) {
      const message = toServiceBusMessage(queue, body, options, now);
      if (batch.tryAddMessage(message)) continue;
      if (batch.count === 0)
        throw new RangeError(`message ${options.messageId} does not fit in a Service Bus batch`);
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      if (!batch.tryAddMessage(message)) {
        throw new RangeError(`message ${options.messageId} does not fit in a Service Bus batch`);
      }
    }
    if (batch.count > 0) await sender.sendMessages(batch);
  }

  /** Active and scheduled messages (dead letters are not waiting for a handler). */
  async depth(queue: string): Promise<number> {
    if (!this.#runtime) throw new TypeError("this Service Bus sender has no administration client for depth");
    const properties = await this.#runtime.getQueueRuntimeProperties(queue);
    return properties.activeMessageCount + properties.scheduledMessageCount;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#senders.values()].map((s) => s.close()));
    this.#senders.clear();
    await this.#closeClient();
  }

  #sender(queue: string): ServiceBusQueueSender {
    let sender = this.#senders.get(queue);
    if (!sender) {
      sender = this.#createSender(queue);
      this.#senders.set(queue, sender);
    }
    return sender;
  }
}

/**
 * One bus message as Service Bus gets it: the JSON body (the SDK encodes it), the deterministic
 * message id duplicate detection keys on, and a scheduled enqueue time for a delay.
 */
export function toServiceBusMessage(
  queue: string,
  body: unknown,
  options: SendOptions,
  now: Date,
): ServiceBusMessage {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError(`message ${options.messageId} to ${queue} has no JSON body`);
  assertMessageSize(queue, options.messageId, json);
  const message: ServiceBusMessage = {
    body: JSON.parse(json) as unknown, // what the receiver will see: no Dates, no undefined members
    messageId: options.messageId,
    contentType: "application/json",
  };
  if (options.delaySeconds !== undefined && options.delaySeconds > 0) {
    message.scheduledEnqueueTimeUtc = new Date(now.getTime() + options.delaySeconds * 1000);
  }
  return message;
}
