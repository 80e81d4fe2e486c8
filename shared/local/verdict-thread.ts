import { Worker } from "node:worker_threads";
import type { ErrorCode } from "../model/error-codes.js";
import { InvariantError, ScanError } from "../model/errors.js";
import type { Inventory } from "../model/report.js";
import type { AcceptedRisk, Policy } from "../policy/policy.js";
import type { OpenVexDocument } from "../policy/vex.js";
import type { DecidedReport } from "../stages/decided-report.js";
import { DB_PREFIX } from "../vulndb/db-format.js";

/** The image as a verdict names it, set on a stored inventory before matching (`asVerdictImage`). */
export interface StoredImage {
  tags: string[];
  ref: string;
  registry: string;
  repository: string;
}

/** What the host sends the thread for one image. */
export interface VerdictJob {
  id: number;
  /** the inventory as JSON: cheaper to write and read than a structured clone of its objects */
  inventoryJson?: string;
  /** or the inventory's blob key, read and checked on the thread, with the image as the verdict names it */
  stored?: { key: string; image: StoredImage };
  /** the repository's risks accepted on GitHub (tables are read on the host's side) */
  acceptedRisks: AcceptedRisk[];
  now: string;
}

export type VerdictAnswer =
  | { id: number; decided: DecidedReport }
  | { id: number; noDb: true }
  /** the stored inventory is missing, or not an inventory (`corrupt` says why) */
  | { id: number; unreadable: { corrupt?: string } }
  /** a ScanError keeps its code and permanence across the thread; anything else is retried */
  | { id: number; error: string; code?: ErrorCode; permanent?: boolean };

// Under tsx and vitest the entry is TypeScript: the thread registers tsx's loader before importing it
// (a dev dependency, there only where the sources run); built, it is plain JavaScript.
const ENTRY = new URL(
  import.meta.url.endsWith(".ts") ? "./verdict-thread-entry.ts" : "./verdict-thread-entry.js",
  import.meta.url,
).href;
const BOOT = ENTRY.endsWith(".ts")
  ? `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(ENTRY)}); });`
  : `import(${JSON.stringify(ENTRY)});`;

/**
 * A rescan's matching and policy on worker threads (two by default, each job to the one holding the
 * fewest), so the host's event loop keeps only the storage work and the cores do the rest: the local
 * host's half of `PipelineDeps.matchAndDecideStored`. Started at the first rescans; a thread that dies fails
 * the jobs it held (their deliveries are retried) and a later job starts another in its place.
 */
export class VerdictThread {
  readonly #file: string;
  readonly #policy: Policy;
  readonly #vex: readonly OpenVexDocument[] | undefined;
  /** the threads started so far, each with the jobs it holds (a slot is empty until first needed) */
  readonly #threads: (
    | { worker: Worker; waiting: Map<number, (answer: VerdictAnswer) => void> }
    | undefined
  )[];
  #next = 0;

  readonly #flush: (reads: (key: string) => boolean) => void;

  /**
   * `file`: the local store's SQLite file, which holds the vulnerability DB the thread matches
   * against; `flush` commits the host's open writes when they include a blob `reads` names, so the
   * thread reads the DB and the inventory the host sees (and a job costs no commit of its own).
   */
  constructor(
    file: string,
    flush: (reads: (key: string) => boolean) => void,
    policy: Policy,
    vex?: readonly OpenVexDocument[],
    /** threads the jobs are spread over: two keep both cores busy while the event loop waits on one */
    threads = 2,
  ) {
    this.#threads = Array.from({ length: Math.max(1, threads) }, () => undefined);
    this.#file = file;
    this.#flush = flush;
    this.#policy = policy;
    this.#vex = vex;
  }

  /**
   * The report ready to store (its JSON, the DB it was matched against, the verdict's rows and
   * record made from it); undefined when there is no DB yet (the caller's own path fetches it).
   */
  async run(
    inventory: Inventory,
    acceptedRisks: AcceptedRisk[],
    now: Date,
  ): Promise<DecidedReport | undefined> {
    const answer = await this.#ask({
      inventoryJson: JSON.stringify(inventory),
      acceptedRisks,
      now: now.toISOString(),
    });
    if (answer && "unreadable" in answer)
      throw new InvariantError("verdict thread: an inventory sent whole was unreadable");
    return answer;
  }

  /**
   * `run` for a stored inventory: the thread reads and checks the blob itself, so the event loop
   * neither parses it nor serialises it again (a fleet rescan is mostly this).
   */
  async runStored(
    key: string,
    image: StoredImage,
    acceptedRisks: AcceptedRisk[],
    now: Date,
  ): Promise<DecidedReport | { unreadable: { corrupt?: string } } | undefined> {
    return this.#ask({ stored: { key, image }, acceptedRisks, now: now.toISOString() });
  }

  async #ask(
    body: Omit<VerdictJob, "id">,
  ): Promise<DecidedReport | { unreadable: { corrupt?: string } } | undefined> {
    const thread = this.#pick();
    const id = this.#next++;
    // a DB update or an inventory the host wrote in its open commit window is read by the thread only once committed
    const stored = body.stored?.key;
    this.#flush((key) => key === stored || key.startsWith(`${DB_PREFIX}/`));
    const answer = await new Promise<VerdictAnswer>((resolve) => {
      thread.waiting.set(id, resolve);
      const job: VerdictJob = { id, ...body };
      thread.worker.postMessage(job);
    });
    if ("error" in answer) {
      if (answer.code !== undefined)
        throw new ScanError(answer.code, answer.error, { permanent: answer.permanent ?? true });
      // no ScanError (the thread stopped, or a bug): a failed job is retried with its delivery
      throw new InvariantError(`verdict thread: ${answer.error}`);
    }
    if ("noDb" in answer) return undefined;
    if ("unreadable" in answer) return { unreadable: answer.unreadable };
    return answer.decided;
  }

  /** The thread holding the fewest jobs; an empty slot gets its thread started. */
  #pick(): { worker: Worker; waiting: Map<number, (answer: VerdictAnswer) => void> } {
    let best = 0;
    for (let slot = 0; slot < this.#threads.length; slot++) {
      const held = this.#threads[slot]?.waiting.size ?? -1;
      if (held < (this.#threads[best]?.waiting.size ?? -1)) best = slot;
    }
    return this.#threads[best] ?? this.#start(best);
  }

  #start(slot: number): { worker: Worker; waiting: Map<number, (answer: VerdictAnswer) => void> } {
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { file: this.#file, policy: this.#policy, vex: this.#vex },
    });
    const thread = { worker, waiting: new Map<number, (answer: VerdictAnswer) => void>() };
    // an idle thread does not keep the process alive; `close` ends it
    worker.unref();
    worker.on("message", (answer: VerdictAnswer | { ready: true }) => {
      if ("ready" in answer) return;
      thread.waiting.get(answer.id)?.(answer);
      thread.waiting.delete(answer.id);
    });
    const fail = (why: string) => {
      if (this.#threads[slot] === thread) this.#threads[slot] = undefined;
      for (const [id, answer] of thread.waiting) answer({ id, error: why });
      thread.waiting.clear();
    };
    worker.on("error", (err) => fail(err.message));
    worker.on("exit", (code) => fail(`exited with code ${code}`));
    this.#threads[slot] = thread;
    return thread;
  }

  async close(): Promise<void> {
    const threads = this.#threads.splice(0, this.#threads.length, ...this.#threads.map(() => undefined));
    await Promise.all(threads.map((thread) => thread?.worker.terminate()));
  }
}
