import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { compile, create, type RuleMatch, type YaraX } from "@litko/yara-x";
import { ContentCategorySchema } from "../../model/content.js";
import { hasExecutableMagic } from "./malware-rules.js";
import { YARA_RULES_VERSION } from "./yara-rules.js";
import type { UserYaraRules } from "./yara-rule-dirs.js";
import { ScanError } from "../../model/errors.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { isElf } from "./elf-analysis.js";
import {
  EICAR_MAX_BYTES,
  passNeeded,
  type RulePass,
  ruleSetPasses,
  oneSet,
  SHORT_TEXT_BYTES,
  scannedBytes,
  type YaraFileKind,
  yaraFileKind,
} from "./yara-rule-sets.js";

/** One YARA rule that matched a file: its stable id, threat kind, title and which patterns hit where. */
export interface YaraHit {
  rule: string;
  category: "malware" | "injection" | "persistence" | "secret" | "integrity";
  title: string;
  /** `$stratum at 0x1f3` — pattern names and offsets, never the matched bytes (a rule may match a secret) */
  patterns: string[];
}

/** Executables and scripts (by magic or name) are scanned up to this size … */
export const MAX_YARA_EXECUTABLE_BYTES = 32 * 1024 * 1024;
/** … web-root files and configuration files (miner pools) up to this one. */
export const MAX_YARA_TEXT_BYTES = 2 * 1024 * 1024;

const SCRIPT_OR_WEB =
  /\.(?:php\d?|phtml|inc|jsp|jspx|asp|aspx|ashx|asmx|cshtml|sh|bash|zsh|py|pl|rb|js|ps1|psm1|bat|cmd|vbs|exe|dll|sys|scr|so|elf)$/i;
const CONFIG =
  /\.(?:json|conf|cfg|ini|ya?ml|txt|service|timer|desktop)$|(?:^|\/)(?:crontab|rc\.local|cron\.[a-z]+\/[^/]+)$/i;
/** Where a web server's pages are: every file there may be one (and ships what the browser gets). */
export const WEB_ROOT =
  /^(?:var\/www|srv\/www|usr\/share\/nginx\/html|inetpub|Files\/inetpub|usr\/local\/tomcat\/webapps|opt\/[^/]+\/webapps)\//i;

/**
 * Which files YARA reads: executables, scripts and web roots, and configuration files, each within its
 * size limit. `content` may be the file's first bytes alone, with `length` its size.
 */
export function yaraScans(path: string, content: Buffer, length = content.length): boolean {
  if (length === 0) return false;
  const executable = hasExecutableMagic(content) || SCRIPT_OR_WEB.test(path);
  if (executable) return length <= MAX_YARA_EXECUTABLE_BYTES;
  return (WEB_ROOT.test(path) || CONFIG.test(path)) && length <= MAX_YARA_TEXT_BYTES;
}

/**
 * A file's scan is abandoned after this long. @litko/yara-x 0.3.0 exposes no scan timeout (its
 * scanner options are the match cap and mmap), so the scan runs on libuv's thread pool and is raced
 * against a timer; the native scan cannot be cancelled and runs on to its end.
 */
export const DEFAULT_YARA_SCAN_TIMEOUT_MS = 10_000;

/** One file's YARA outcome: the hits, and why the user's rules gave no verdict on it, if they did not. */
export type YaraOutcome = { hits: YaraHit[]; error?: string };

/** The user's rules' verdict on one file, and its SHA-256 when they hit (`scanDeferred`). */
export type UserVerdict = { hits: YaraHit[]; error?: string; sha256?: string };

/** The shipped rules' hits on one file, and the user's rules' verdict still to come. */
export interface DeferredYara {
  hits: YaraHit[];
  user?: Promise<UserVerdict>;
}

const STILL_RUNNING = "not scanned by the user's YARA rules: an earlier scan that timed out is still running";

/**
 * YARA-X over the shipped rule set and the user's rules, compiled once. A user rule that fails to
 * compile, or that YARA-X judges slow, is refused here with its file and line: a scan never runs a
 * rule set other than the one configured. The shipped rules run by file kind (`yara-rule-sets.ts`);
 * the user's are a rule set of their own, run on every file YARA reads.
 */
export class YaraEngine {
  /** each file kind's shipped rules, in passes, and the text passes as one set for short text */
  private readonly shipped: CompiledPasses;
  /** the user's rules, for `scan` (`scanWithin` runs them in a worker thread) */
  private readonly user: YaraX | undefined;
  /** the rule set's identity in the layer-cache key: shipped version plus a digest of the user rules */
  readonly version: string;

  private readonly timeoutMs: number;
  /** the user's rule sources: what a worker thread compiles */
  private readonly sources: string[];
  private worker: YaraWorker | undefined;

  constructor(user: UserYaraRules = { files: [] }, options: { scanTimeoutMs?: number } = {}) {
    this.timeoutMs = options.scanTimeoutMs ?? DEFAULT_YARA_SCAN_TIMEOUT_MS;
    this.shipped = compiledPasses();
    this.user = user.files.length > 0 ? userRules(user) : undefined;
    this.sources = user.files.map((f) => f.source);
    const digest = createHash("sha256");
    for (const file of user.files) digest.update(`${file.path}\0${file.source}\0`);
    this.version =
      user.files.length === 0
        ? `shipped@${YARA_RULES_VERSION}`
        : `shipped@${YARA_RULES_VERSION}+user-${digest.digest("hex").slice(0, 16)}`;
  }

  /** Every rule's hits, the user's too, in this thread and without a time bound. */
  scan(content: Buffer): YaraHit[] {
    const hits = this.scanShipped(content);
    if (this.user !== undefined) for (const m of this.user.scan(content)) hits.push(toHit(m, false));
    return hits;
  }

  /**
   * The shipped rules of the file's kind: reviewed and linear, so in this thread, unbounded. An ELF
   * file may come as the walk's chunks: its passes read only its string ranges, copied from them.
   */
  private scanShipped(file: Buffer | ChunkedBytes, elfRanges?: [number, number][]): YaraHit[] {
    const hits: YaraHit[] = [];
    const elf = file instanceof ChunkedBytes && file.length > EICAR_MAX_BYTES && isElf(file.slice(0, 4));
    const content = file instanceof ChunkedBytes && !elf ? file.slice(0, file.length) : file;
    const kind = content instanceof ChunkedBytes ? "elf" : yaraFileKind(content);
    const { bytes, fileOffset } = scannedBytes(kind, content, kind === "elf" ? elfRanges : undefined);
    const passes =
      kind === "text" && content.length <= SHORT_TEXT_BYTES
        ? this.shipped.shortText
        : this.shipped.byKind[kind];
    for (const pass of passes)
      if (passNeeded(pass, bytes))
        for (const m of pass.rules.scan(bytes)) hits.push(toHit(m, true, fileOffset));
    return hits;
  }

  /**
   * The file's hits within the time bound. The user's rules run in a worker thread (YARA-X's
   * scanAsync holds the event loop, so no timer could fire beside it in this thread); a scan past the
   * bound is abandoned with an error, and runs on in the worker (native code cannot be interrupted).
   * Until it ends, files get no verdict from the user's rules and say so: a pathological rule costs
   * one thread. The shipped rules' hits are always there. `elfRanges`: an ELF file's string ranges,
   * when the caller has read them (`readElf`).
   */
  async scanWithin(file: Buffer | ChunkedBytes, elfRanges?: [number, number][]): Promise<YaraOutcome> {
    const { hits, user } = await this.scanDeferred(file, elfRanges);
    if (user === undefined) return { hits };
    const verdict = await user;
    hits.push(...verdict.hits);
    return verdict.error === undefined ? { hits } : { hits, error: verdict.error };
  }

  /**
   * `scanWithin` without waiting for the user's rules: the shipped rules' hits now, the user's
   * verdict to come (with the file's SHA-256 when they hit: the bytes are gone by then). The walk
   * reads on while the worker scans, at most 64 files or 16 MiB ahead of it; the caller waits for
   * every verdict before its results are complete.
   */
  async scanDeferred(file: Buffer | ChunkedBytes, elfRanges?: [number, number][]): Promise<DeferredYara> {
    const hits = this.scanShipped(file, elfRanges);
    if (this.sources.length === 0) return { hits };
    if (this.worker?.exited) this.worker = undefined;
    this.worker ??= new YaraWorker(this.sources, this.timeoutMs);
    const worker = this.worker;
    await worker.room();
    if (worker.busy) return { hits, user: Promise.resolve({ hits: [], error: STILL_RUNNING }) };
    const content = file instanceof ChunkedBytes ? file.slice(0, file.length) : file;
    const user = worker.scan(content).then((answer): UserVerdict => {
      if (answer === "timeout")
        return {
          hits: [],
          error: `the user's YARA rules timed out after ${this.timeoutMs} ms (a slow rule); their verdict on it is unknown`,
        };
      if (answer === "busy") return { hits: [], error: STILL_RUNNING };
      if ("error" in answer)
        return { hits: [], error: `the user's YARA rules could not scan it: ${answer.error}` };
      return {
        hits: answer.matches.map((m) => toHit(m, false)),
        ...(answer.sha256 !== undefined ? { sha256: answer.sha256 } : {}),
      };
    });
    return { hits, user };
  }

  /** Stops the worker thread (shutdown); the engine starts another on its next bounded scan. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

type CompiledPass = RulePass & { rules: YaraX };

interface CompiledPasses {
  byKind: Record<YaraFileKind, CompiledPass[]>;
  shortText: CompiledPass[];
}

/** Each kind's passes compiled once per process: passes with the same rule text share one compiled set. */
let compiled: CompiledPasses | undefined;
function compiledPasses(): CompiledPasses {
  if (compiled !== undefined) return compiled;
  const byText = new Map<string, YaraX>();
  const one = (pass: RulePass): CompiledPass => {
    let rules = byText.get(pass.source);
    if (rules === undefined) {
      const fresh: YaraX = compile(pass.source);
      // at most this many matches per pattern: a file full of one string must not make a huge answer
      fresh.setMaxMatchesPerPattern(16);
      byText.set(pass.source, fresh);
      rules = fresh;
    }
    return { ...pass, rules };
  };
  const passes = ruleSetPasses();
  const out = {} as Record<YaraFileKind, CompiledPass[]>;
  for (const kind of Object.keys(passes) as YaraFileKind[]) out[kind] = passes[kind].map(one);
  compiled = { byKind: out, shortText: [one(oneSet(passes.text))] };
  return compiled;
}

function userRules(user: UserYaraRules): YaraX {
  const rules = create();
  for (const file of user.files) {
    try {
      rules.addRuleSource(file.source);
    } catch (err) {
      throw new ScanError(
        "yara-rules-invalid",
        `YARA rule file ${file.path} does not compile: ${(err as Error).message}`,
      );
    }
  }
  rules.setMaxMatchesPerPattern(16);
  return rules;
}

/** A hit; `shipped` says which rule set it came from (a user rule never gets a shipped rule id). */
function toHit(match: RuleMatch, shipped: boolean, fileOffset = (o: number) => o): YaraHit {
  const meta = match.meta as Record<string, unknown>;
  const category = ContentCategorySchema.safeParse(meta.category);
  const id =
    typeof meta.id === "string" && /^[a-z0-9-]+\/[A-Za-z0-9_.-]+$/.test(meta.id) ? meta.id : undefined;
  const seen = new Set<string>();
  for (const m of match.matches) seen.add(`${m.identifier} at 0x${fileOffset(m.offset).toString(16)}`);
  return {
    // a user rule is named by its identifier, so it can never pose as a shipped rule id
    rule: shipped && id !== undefined ? id : `yara-user/${match.ruleIdentifier}`,
    category: category.success ? category.data : "malware",
    title: typeof meta.title === "string" ? meta.title : `YARA rule ${match.ruleIdentifier}`,
    patterns: [...seen].slice(0, 8),
  };
}

// the worker compiles the user's sources and answers one scan at a time, in order; it skips the
// scans given up on behind a timed-out one (`skip`: the last such id), and hashes a file its rules hit
// (the sender keeps no copy); CommonJS, as an eval worker runs
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const { create } = require(workerData.module);
const skip = new Int32Array(workerData.skip);
const rules = create();
for (const source of workerData.sources) rules.addRuleSource(source);
rules.setMaxMatchesPerPattern(16);
rules.scan(Buffer.alloc(1)); // the first scan builds the scanner: start-up, not the file's time
parentPort.postMessage({ ready: true });
parentPort.on("message", ({ id, data }) => {
  if (id <= Atomics.load(skip, 0)) return parentPort.postMessage({ id, skipped: true });
  try {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const matches = rules.scan(bytes);
    parentPort.postMessage(matches.length > 0 ? { id, matches, sha256: hash("sha256", bytes) } : { id, matches });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

const YARA_MODULE = createRequire(import.meta.url).resolve("@litko/yara-x");

/** Bounds on the scans sent to the worker and not yet answered: the walk waits for room beyond them. */
const MAX_PENDING_FILES = 64;
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

type WorkerAnswer = { matches: RuleMatch[]; sha256?: string } | { error: string };

/**
 * One worker thread holding the compiled rules; scans are sent without waiting (bounded) and run
 * there one at a time, in order. The time bound runs for the oldest unanswered scan, from when the
 * worker starts it: past it, that scan is abandoned and those queued behind it get no verdict.
 */
class YaraWorker {
  private readonly worker: Worker;
  private next = 0;
  /** the thread ended (crashed or terminated): the engine starts another */
  exited = false;
  /** the id of an abandoned scan the worker is still running */
  private abandoned: number | undefined;
  /** scans sent and not answered, oldest first: the worker runs the oldest */
  private readonly pending: {
    id: number;
    bytes: number;
    answer: (a: WorkerAnswer | "timeout" | "busy") => void;
  }[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private waiters: (() => void)[] = [];
  /** the last id the worker is to skip (given up on behind an abandoned scan) */
  private readonly skip = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    sources: string[],
    private readonly timeoutMs: number,
  ) {
    Atomics.store(this.skip, 0, -1);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: YARA_MODULE, sources, skip: this.skip.buffer },
    });
    this.worker.unref();
    this.worker.on(
      "message",
      (m: {
        id: number;
        ready?: true;
        skipped?: true;
        matches?: RuleMatch[];
        sha256?: string;
        error?: string;
      }) => {
        // the time bound covers scanning, not start-up
        if (m.ready) {
          this.started = true;
          return this.arm();
        }
        if (m.id === this.abandoned) {
          this.abandoned = undefined;
          return this.wake();
        }
        const oldest = this.pending[0];
        if (m.skipped || oldest?.id !== m.id) return;
        this.done();
        oldest.answer(
          m.error !== undefined ? { error: m.error } : { matches: m.matches ?? [], sha256: m.sha256 },
        );
        this.arm();
      },
    );
    const fail = (why: string) => {
      clearTimeout(this.timer);
      for (const scan of this.pending.splice(0)) scan.answer({ error: why });
      this.pendingBytes = 0;
      this.abandoned = undefined;
      this.wake();
    };
    this.worker.on("error", (err) => fail(err.message));
    this.worker.on("exit", (code) => {
      this.exited = true;
      fail(`the YARA worker exited (${code})`);
    });
  }

  scan(content: Buffer): Promise<WorkerAnswer | "timeout" | "busy"> {
    const id = this.next++;
    return new Promise((answer) => {
      this.pending.push({ id, bytes: content.length, answer });
      this.pendingBytes += content.length;
      const data = ownBytes(content);
      this.worker.postMessage({ id, data }, [data.buffer]);
      // the thread keeps the process alive while it owes answers (not for an abandoned scan)
      this.worker.ref();
      if (this.pending.length === 1) this.arm();
    });
  }

  /** Resolves once the scans in flight are within their bounds. */
  async room(): Promise<void> {
    while (this.pending.length >= MAX_PENDING_FILES || this.pendingBytes >= MAX_PENDING_BYTES)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** true while an abandoned scan still runs: a new one would only queue behind it */
  get busy(): boolean {
    return this.abandoned !== undefined;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  /** The oldest scan answered: its bytes leave the bound. */
  private done(): void {
    const oldest = this.pending.shift()!;
    this.pendingBytes -= oldest.bytes;
    this.wake();
  }

  /** The time bound for the oldest scan, which the worker runs now. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = this.pending[0];
    if (!this.started || oldest === undefined) return;
    this.timer = setTimeout(() => {
      const given = this.pending.splice(0);
      this.pendingBytes = 0;
      this.abandoned = oldest.id;
      Atomics.store(this.skip, 0, given[given.length - 1]!.id);
      oldest.answer("timeout");
      for (const scan of given.slice(1)) scan.answer("busy");
      this.wake();
    }, this.timeoutMs);
  }

  private wake(): void {
    if (this.pending.length === 0) this.worker.unref();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The file's bytes in an ArrayBuffer of their own, to move to the worker: posting a view clones the
 * whole buffer under it, and the content engine joins files into one reused 8 MiB buffer (64 files
 * queued would have held 512 MiB, against the 16 MiB the queue is bounded by).
 */
export function ownBytes(content: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(content);
}
