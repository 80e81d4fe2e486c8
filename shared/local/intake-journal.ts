import { type FileHandle, open, readFile, rename } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ScanRequestMessageSchema } from "../model/messages.js";
import type { BusSender, OutgoingMessage, SendOptions } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import { createRequestScan, readScan } from "../stages/scan-state.js";

/** Intake's queue: what a 202 promises. */
const INTAKE_QUEUE = "scan-requests";
/**
 * How long an entry is kept: Azurite saves its metadata every few seconds, so an intake older than
 * this (counted back from the journal's newest entry) is in Azurite's own save.
 */
export const JOURNAL_RETENTION_MS = 60_000;
/** Entries the file may hold before an append trims the ones past retention (keeps it small while serve runs). */
const TRIM_AT = 256;

const EntrySchema = z.object({ at: z.string(), messageId: z.string(), body: ScanRequestMessageSchema });
type Entry = z.infer<typeof EntrySchema>;

/**
 * The local host's write-ahead journal of accepted scan requests: each is appended and fsync'd
 * before it goes to the queue, so before the 202. At start, the retained suffix is replayed onto
 * what Azurite saved: a request whose scan row or message was lost is written and sent again.
 */
export class IntakeJournal {
  readonly #file: string;
  #handle: FileHandle | undefined;
  /** appends one at a time: each line whole, in order */
  #tail: Promise<void> = Promise.resolve();
  /** what the file holds, oldest first (known after `replay`; appends before it only add) */
  #kept: Entry[] = [];

  constructor(dataDir: string) {
    this.#file = path.join(dataDir, "intake.journal");
  }

  async append(entry: Entry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.#tail.then(async () => {
      this.#handle ??= await open(this.#file, "a");
      await this.#handle.appendFile(line);
      await this.#handle.sync();
      this.#kept.push(entry);
      // entries older than the retention are in Azurite's own save: the journal need not keep them
      const cutoff = Date.parse(entry.at) - JOURNAL_RETENTION_MS;
      if (this.#kept.length >= TRIM_AT && Date.parse(this.#kept[0]!.at) < cutoff) {
        this.#kept = this.#kept.filter((e) => Date.parse(e.at) >= cutoff);
        await this.#rewrite(this.#kept);
      }
    });
    this.#tail = write.catch(() => {});
    await write;
  }

  /** Entries within the retention of the newest one; a torn last line (a crash mid-append) is skipped. */
  async retained(): Promise<Entry[]> {
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const entries: Entry[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const parsed = EntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) entries.push(parsed.data);
      } catch {
        // an unfinished line: its append never returned, so its 202 was never sent
      }
    }
    const newest = Math.max(0, ...entries.map((e) => Date.parse(e.at)));
    return entries.filter((e) => Date.parse(e.at) >= newest - JOURNAL_RETENTION_MS);
  }

  /**
   * Replays the retained entries onto the tables and the bus (idempotent: a scan already past
   * "queued" since the entry was written is left alone), then keeps only those in the journal.
   */
  async replay(tables: TableStore, bus: BusSender, log: (line: string) => void): Promise<number> {
    const entries = await this.retained();
    let replayed = 0;
    for (const entry of entries) {
      const at = new Date(entry.at);
      const scan = await readScan(tables, entry.body.scanId);
      const progressed =
        scan !== undefined &&
        scan.state.status !== "queued" &&
        Date.parse(scan.state.updatedAt) >= at.getTime();
      if (progressed) continue;
      if (!scan) await createRequestScan(tables, entry.body, at);
      await bus.send(INTAKE_QUEUE, entry.body, { messageId: entry.messageId });
      replayed++;
    }
    if (replayed > 0)
      log(`intake journal: replayed ${replayed} accepted scan request(s) storage had not saved`);
    await this.#tail;
    this.#kept = entries;
    await this.#rewrite(entries);
    return replayed;
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.#closeHandle();
  }

  async #closeHandle(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  /** Replaces the journal with `entries`, atomically and durably. */
  async #rewrite(entries: readonly Entry[]): Promise<void> {
    await this.#closeHandle();
    const temp = `${this.#file}.tmp`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(entries.map((e) => `${JSON.stringify(e)}\n`).join(""));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.#file);
    const dir = await open(path.dirname(this.#file), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** The bus intake sends through on the local host: a scan request is journaled before it is sent. */
export function journaledIntakeBus(bus: BusSender, journal: IntakeJournal, now: () => Date): BusSender {
  return {
    async send(queue: string, body: unknown, options: SendOptions): Promise<void> {
      if (queue === INTAKE_QUEUE) {
        const parsed = ScanRequestMessageSchema.parse(body);
        await journal.append({ at: now().toISOString(), messageId: options.messageId, body: parsed });
      }
      await bus.send(queue, body, options);
    },
    async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<void> {
      if (queue !== INTAKE_QUEUE) return bus.sendBatch(queue, messages);
      for (const { body, ...options } of messages) await this.send(queue, body, options);
    },
    ...(bus.depth ? { depth: (queue: string) => bus.depth!(queue) } : {}),
    close: () => bus.close(),
  };
}
