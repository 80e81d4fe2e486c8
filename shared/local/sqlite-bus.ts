import { decodeEnvelope, type Envelope, type Lease, type QueueTransport } from "../ports/queue-transport.js";
import { TransportBus, type TransportBusOptions } from "../ports/transport-bus.js";
import { type SqliteDatabase, prepared, transaction } from "./sqlite-database.js";
import { ScanError } from "../model/errors.js";

interface SqliteHandle {
  id: number;
  /** bumps on every receive/extend, so a lease whose lock expired cannot complete someone else's */
  lock: number;
}

/** Sent ids older than the window are swept every this many sends, not on each one. */
const SWEEP_EVERY = 500;

/**
 * The local host's bus on its SQLite file: the same receive loop as the Storage Queue bus
 * (visibility timeout, delivery count, lock renewal, `<queue>-poison`), with the duplicate window
 * kept in the file too and checked in the send's own transaction, so a message id is dropped within
 * the window even across restarts, as Service Bus does. Every send, receive and completion is
 * committed in order with the writes around it (in the host's commit window, `startGroupCommit`:
 * a `kill -9` loses a suffix, never a completion without its handler's writes; `syncLocalStore`
 * makes it survive a power cut before anyone outside is told).
 */
export class SqliteBus extends TransportBus {
  readonly #transport: SqliteQueueTransport;

  constructor(db: SqliteDatabase, options: TransportBusOptions = {}) {
    const transport = new SqliteQueueTransport(db);
    super(transport, { minIdleMs: 20, maxIdleMs: 500 }, options);
    this.#transport = transport;
  }

  /** The envelopes in a queue (including leased ones), oldest first: for the poison queues and tests. */
  peek(queue: string): Envelope[] {
    return this.#transport.texts(queue).flatMap((text) => decodeEnvelope(text) ?? []);
  }
}

class SqliteQueueTransport implements QueueTransport {
  readonly #db: SqliteDatabase;
  #sends = 0;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async depth(queue: string): Promise<number> {
    const row = prepared(this.#db, "SELECT count(*) AS n FROM queue_messages WHERE queue = ?").get(queue) as {
      n: number;
    };
    return row.n;
  }

  texts(queue: string): string[] {
    return prepared<[string], { text: string }>(
      this.#db,
      "SELECT text FROM queue_messages WHERE queue = ? ORDER BY id",
    )
      .all(queue)
      .map((r) => r.text);
  }

  async receive(queue: string, max: number, visibilitySeconds: number): Promise<Lease[]> {
    const now = Date.now();
    const hiddenUntil = now + visibilitySeconds * 1000;
    return transaction(this.#db, () => {
      const rows = prepared<[string, number, number], { id: number; text: string }>(
        this.#db,
        "SELECT id, text FROM queue_messages INDEXED BY queue_messages_order WHERE queue = ? AND visible_at <= ? ORDER BY id LIMIT ?",
      ).all(queue, now, max);
      const take = prepared<[number, number], { delivery_count: number; lock: number }>(
        this.#db,
        `UPDATE queue_messages SET visible_at = ?, delivery_count = delivery_count + 1, lock = lock + 1
         WHERE id = ? RETURNING delivery_count, lock`,
      );
      return rows.map((row): Lease => {
        const taken = take.get(hiddenUntil, row.id)!;
        const handle: SqliteHandle = { id: row.id, lock: taken.lock };
        return { queue, text: row.text, deliveryCount: taken.delivery_count, handle };
      });
    });
  }

  async extend(lease: Lease, visibilitySeconds: number): Promise<void> {
    const handle = lease.handle as SqliteHandle;
    const { changes } = prepared(
      this.#db,
      "UPDATE queue_messages SET visible_at = ? WHERE id = ? AND lock = ?",
    ).run(Date.now() + visibilitySeconds * 1000, handle.id, handle.lock);
    if (changes !== 1)
      throw new ScanError("lock-lost", `lock lost on a message in ${lease.queue}`, { permanent: false });
  }

  async release(lease: Lease, delaySeconds: number, envelopeJson?: string): Promise<void> {
    const handle = lease.handle as SqliteHandle;
    prepared(
      this.#db,
      "UPDATE queue_messages SET visible_at = ?, text = coalesce(?, text) WHERE id = ? AND lock = ?",
    ).run(Date.now() + delaySeconds * 1000, envelopeJson ?? null, handle.id, handle.lock);
  }

  async complete(lease: Lease): Promise<void> {
    const handle = lease.handle as SqliteHandle;
    const { changes } = prepared(this.#db, "DELETE FROM queue_messages WHERE id = ? AND lock = ?").run(
      handle.id,
      handle.lock,
    );
    if (changes !== 1) {
      throw new ScanError(
        "lock-lost",
        `lock lost on a message in ${lease.queue}: it will be delivered again`,
        {
          permanent: false,
        },
      );
    }
  }

  async send(queue: string, envelopeJson: string, delaySeconds: number): Promise<void> {
    this.#insert(queue, envelopeJson, delaySeconds, Date.now());
  }

  async sendUnique(
    queue: string,
    messageId: string,
    envelopeJson: string,
    delaySeconds: number,
    windowSeconds: number,
  ): Promise<boolean> {
    const [sent] = await this.sendUniqueMany(
      queue,
      [{ messageId, envelopeJson, delaySeconds }],
      windowSeconds,
    );
    return sent!;
  }

  async sendUniqueMany(
    queue: string,
    messages: readonly { messageId: string; envelopeJson: string; delaySeconds: number }[],
    windowSeconds: number,
  ): Promise<boolean[]> {
    const now = Date.now();
    const cutoff = now - windowSeconds * 1000;
    const free = prepared(
      this.#db,
      "DELETE FROM queue_sent_ids WHERE queue = ? AND message_id = ? AND sent_at <= ?",
    );
    const claim = prepared(
      this.#db,
      "INSERT OR IGNORE INTO queue_sent_ids (queue, message_id, sent_at) VALUES (?, ?, ?)",
    );
    // one commit for the whole batch; each id still checked against the window (and the batch itself)
    const sent = transaction(this.#db, () =>
      messages.map(({ messageId, envelopeJson, delaySeconds }) => {
        // an id last sent before the window opens is free again
        free.run(queue, messageId, cutoff);
        if (claim.run(queue, messageId, now).changes === 0) return false;
        this.#insert(queue, envelopeJson, delaySeconds, now);
        return true;
      }),
    );
    const before = this.#sends;
    this.#sends += messages.length;
    if (Math.floor(before / SWEEP_EVERY) !== Math.floor(this.#sends / SWEEP_EVERY)) {
      prepared(this.#db, "DELETE FROM queue_sent_ids WHERE sent_at <= ?").run(cutoff);
    }
    return sent;
  }

  #insert(queue: string, text: string, delaySeconds: number, now: number): void {
    prepared(this.#db, "INSERT INTO queue_messages (queue, text, visible_at) VALUES (?, ?, ?)").run(
      queue,
      text,
      now + Math.max(0, delaySeconds) * 1000,
    );
  }
}
