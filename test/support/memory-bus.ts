import {
  decodeEnvelope,
  type Envelope,
  type Lease,
  type QueueTransport,
} from "../../shared/ports/queue-transport.js";
import { TransportBus, type TransportBusOptions } from "../../shared/ports/transport-bus.js";

interface StoredMessage {
  text: string;
  visibleAt: number;
  deliveryCount: number;
  /** bumps on every receive/extend so a stale lease cannot complete a message someone else holds */
  lock: number;
}

interface MemoryHandle {
  message: StoredMessage;
  lock: number;
}

/**
 * The bus in memory for unit tests of stages: the same receive loop as the Storage Queue bus
 * (visibility timeout, delivery count, lock renewal, poison queue, duplicate window), with
 * fractional seconds so a test can run through several redeliveries quickly.
 */
export class MemoryBus extends TransportBus {
  readonly #transport: MemoryQueueTransport;

  constructor(options: TransportBusOptions = {}) {
    const transport = new MemoryQueueTransport();
    super(transport, { minIdleMs: 2, maxIdleMs: 20 }, options);
    this.#transport = transport;
  }

  /** The envelopes in a queue (including ones currently leased), oldest first: for assertions. */
  peek(queue: string): Envelope[] {
    return this.#transport.list(queue).flatMap((m) => decodeEnvelope(m.text) ?? []);
  }

  /** Resolves once every queue is empty and no handler runs (poison queues, which nobody reads, excepted). */
  async idle(options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (this.#transport.busy()) {
      if (Date.now() > deadline) throw new Error("MemoryBus did not go idle in time");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

class MemoryQueueTransport implements QueueTransport {
  readonly #queues = new Map<string, StoredMessage[]>();
  readonly #running = new Set<Lease>();

  list(queue: string): StoredMessage[] {
    let list = this.#queues.get(queue);
    if (!list) {
      list = [];
      this.#queues.set(queue, list);
    }
    return list;
  }

  async depth(queue: string): Promise<number> {
    return this.list(queue).length;
  }

  busy(): boolean {
    return (
      this.#running.size > 0 ||
      [...this.#queues].some(([name, messages]) => !name.endsWith("-poison") && messages.length > 0)
    );
  }

  async receive(queue: string, max: number, visibilitySeconds: number): Promise<Lease[]> {
    const now = Date.now();
    const leases: Lease[] = [];
    for (const message of this.list(queue)) {
      if (leases.length >= max) break;
      if (message.visibleAt > now) continue;
      message.visibleAt = now + visibilitySeconds * 1000;
      message.deliveryCount++;
      message.lock++;
      const handle: MemoryHandle = { message, lock: message.lock };
      const lease = { queue, text: message.text, deliveryCount: message.deliveryCount, handle };
      this.#running.add(lease);
      leases.push(lease);
    }
    return leases;
  }

  async extend(lease: Lease, visibilitySeconds: number): Promise<void> {
    const message = this.#held(lease);
    if (!message) throw new Error(`lock lost on a message in ${lease.queue}`);
    message.visibleAt = Date.now() + visibilitySeconds * 1000;
  }

  async release(lease: Lease, delaySeconds: number, envelopeJson?: string): Promise<void> {
    this.#running.delete(lease);
    const message = this.#held(lease);
    if (!message) return;
    message.visibleAt = Date.now() + delaySeconds * 1000;
    if (envelopeJson !== undefined) message.text = envelopeJson;
  }

  async complete(lease: Lease): Promise<void> {
    this.#running.delete(lease);
    const message = this.#held(lease);
    if (!message) throw new Error(`lock lost on a message in ${lease.queue}: it will be delivered again`);
    const list = this.list(lease.queue);
    list.splice(list.indexOf(message), 1);
  }

  async send(queue: string, envelopeJson: string, delaySeconds: number): Promise<void> {
    const visibleAt = Date.now() + delaySeconds * 1000;
    this.list(queue).push({ text: envelopeJson, visibleAt, deliveryCount: 0, lock: 0 });
  }

  #held(lease: Lease): StoredMessage | undefined {
    const { message, lock } = lease.handle as MemoryHandle;
    return message.lock === lock && this.list(lease.queue).includes(message) ? message : undefined;
  }
}
