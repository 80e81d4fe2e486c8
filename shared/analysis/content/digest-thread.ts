import { createHash, hash } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { DigestAlgo } from "./file-digests.js";

/** Bytes waiting for the hashing thread at most: the walk waits for room beyond this. */
const RING_BYTES = 16 * 1024 * 1024;
/** Larger files are hashed on the calling thread (the Debian image has none; its largest is 4.5 MB). */
const MAX_THREADED_FILE = RING_BYTES / 2;
/** A batch is sent once it holds this much (or when the walk waits: for room, at the layer's end). */
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 256;

/** The algorithms by bit in a job's mask, and their digests' sizes in bytes. */
const ALGOS: readonly DigestAlgo[] = ["md5", "sha256", "sha1"];
const SIZES: Readonly<Record<DigestAlgo, number>> = { md5: 16, sha256: 32, sha1: 20 };

// a batch is an Int32Array of (offset, length, algorithm mask) per file, in ring order; the reply is
// their binary digests back to back (flat, transferred buffers: a cloned nested array costs ~0.5 µs a file)
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const ring = new Uint8Array(workerData.ring);
const algos = ${JSON.stringify(ALGOS)};
parentPort.on("message", (jobs) => {
  const parts = [];
  for (let i = 0; i < jobs.length; i += 3) {
    const bytes = ring.subarray(jobs[i], jobs[i] + jobs[i + 1]);
    algos.forEach((algo, bit) => {
      if (jobs[i + 2] & (1 << bit)) parts.push(hash(algo, bytes, "buffer"));
    });
  }
  const digests = Buffer.concat(parts);
  const out = new Uint8Array(digests);
  parentPort.postMessage(out, [out.buffer]);
});
`;

/** Where a file's digests go once taken: the content analyzer's per-file record. */
export type DigestTarget = Partial<Record<DigestAlgo, string>>;

interface Job {
  offset: number;
  length: number;
  algos: readonly DigestAlgo[];
  target: DigestTarget;
}

/**
 * Hashes files on a second thread while the layer walk reads on: each file's bytes are copied into a
 * shared ring (the walk reuses its buffer), sent in batches, and its digests are written into its
 * record when the thread answers; `settle` waits for every one. Hashing is most of the integrity
 * cross-check's cost: an idle second core could take it off the walk (see README, Performance).
 * A thread that fails is replaced by hashing here, from the ring's copies: no digest is ever lost.
 */
export class DigestThread {
  private worker: Worker | undefined;
  private ring: Uint8Array | undefined;
  private write = 0;
  /** jobs sent or batched, oldest first: their bytes stay in the ring until answered */
  private readonly queued: Job[] = [];
  private sent = 0;
  /** (offset, length, algorithm mask) per file not yet sent */
  private batch: number[] = [];
  private batchBytes = 0;
  private waiters: (() => void)[] = [];
  /** set once a thread failed: hashing stays on the calling thread rather than start one per batch */
  private inline: boolean;

  /** `threaded: false` hashes on the calling thread (the content engine's default: see README, Performance) */
  constructor({ threaded = true }: { threaded?: boolean } = {}) {
    this.inline = !threaded;
  }

  /**
   * Takes `algos` of `content` (one buffer, or the walk's chunks in order) into `target`: now, for an
   * empty or large file, else on the thread. Resolves once the bytes are copied (the caller may reuse
   * `content`), waiting for room if need be.
   */
  async digest(
    content: Buffer | readonly Buffer[],
    algos: readonly DigestAlgo[],
    target: DigestTarget,
  ): Promise<void> {
    if (algos.length === 0) return;
    const length = Buffer.isBuffer(content) ? content.length : content.reduce((n, c) => n + c.length, 0);
    for (;;) {
      if (this.inline || length === 0 || length > MAX_THREADED_FILE) {
        for (const algo of algos) target[algo] = digestOf(algo, content);
        return;
      }
      const offset = this.reserve(length);
      if (offset !== undefined) {
        if (Buffer.isBuffer(content)) this.ring!.set(content, offset);
        else {
          let at = offset;
          for (const chunk of content) {
            this.ring!.set(chunk, at);
            at += chunk.length;
          }
        }
        this.queued.push({ offset, length, algos, target });
        this.batch.push(
          offset,
          length,
          algos.reduce((m, a) => m | (1 << ALGOS.indexOf(a)), 0),
        );
        this.batchBytes += length;
        if (this.batchBytes >= BATCH_BYTES || this.batch.length >= 3 * BATCH_FILES) this.flush();
        return;
      }
      // a busy thread frees room as it answers: sending it one file per wait would cost a message each
      if (this.sent === 0) this.flush();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once every file handed to `digest` so far has its digests. */
  async settle(): Promise<void> {
    while (this.queued.length > 0) {
      // a busy thread frees room as it answers: sending it one file per wait would cost a message each
      if (this.sent === 0) this.flush();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Room for `length` bytes after the newest queued file (wrapping to the start), or undefined. */
  private reserve(length: number): number | undefined {
    this.ring ??= new Uint8Array(new SharedArrayBuffer(RING_BYTES));
    const oldest = this.queued[0]?.offset;
    if (oldest === undefined) this.write = 0;
    const at = this.write;
    // the write offset never reaches the oldest job's start from below: equal means empty
    const room =
      oldest === undefined || at > oldest
        ? RING_BYTES - at >= length
          ? at
          : oldest !== undefined && length < oldest
            ? 0
            : undefined
        : oldest - at > length
          ? at
          : undefined;
    if (room !== undefined) this.write = room + length;
    return room;
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const jobs = Int32Array.from(this.batch);
    this.batch = [];
    this.batchBytes = 0;
    this.sent += jobs.length / 3;
    const worker = this.thread();
    worker.ref();
    worker.postMessage(jobs, [jobs.buffer]);
  }

  private thread(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: this.ring!.buffer } });
    this.worker = worker;
    worker.on("message", (digests: Uint8Array) => {
      if (this.worker === worker) this.answered(digests);
    });
    worker.on("error", () => this.lost(worker));
    worker.on("exit", () => this.lost(worker));
    return worker;
  }

  private answered(digests: Uint8Array): void {
    const bytes = Buffer.from(digests.buffer, digests.byteOffset, digests.length);
    let at = 0;
    while (at < bytes.length) {
      const job = this.queued.shift()!;
      this.sent--;
      // in the thread's order (ALGOS), whatever the order asked in
      for (const algo of ALGOS) {
        if (!job.algos.includes(algo)) continue;
        job.target[algo] = bytes.toString("hex", at, at + SIZES[algo]);
        at += SIZES[algo];
      }
    }
    this.wake();
  }

  /** The thread died: the files it did not answer for are hashed here, from their copies in the ring. */
  private lost(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.inline = true;
    // batched jobs not yet sent are hashed too: no thread is started for them
    this.batch = [];
    this.batchBytes = 0;
    const unanswered = this.queued.splice(0);
    this.sent = 0;
    for (const job of unanswered) {
      const bytes = this.ring!.subarray(job.offset, job.offset + job.length);
      for (const algo of job.algos) job.target[algo] = hash(algo, bytes);
    }
    this.wake();
  }

  private wake(): void {
    // the thread keeps the process alive only while it owes digests
    if (this.sent === 0) this.worker?.unref();
    else this.worker?.ref();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Stops the thread (shutdown, tests); the next file starts another. */
  async terminate(): Promise<void> {
    await this.settle();
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

/** One digest of a buffer, or of chunks in order (hashed as they are: never joined). */
export function digestOf(algo: DigestAlgo, content: Buffer | readonly Buffer[]): string {
  if (Buffer.isBuffer(content)) return hash(algo, content);
  if (content.length === 1) return hash(algo, content[0]!);
  const h = createHash(algo);
  for (const chunk of content) h.update(chunk);
  return h.digest("hex");
}
