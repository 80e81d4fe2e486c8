import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import { type ClamdClient, describeClamd } from "./clamd-client.js";
import type { ContentData } from "./content-data.js";
import { contentFindings } from "./content-findings.js";
import { DigestThread, digestOf } from "./digest-thread.js";
import { FileBytes, JoinBuffer } from "./file-bytes.js";
import { digestsFor, LayerMarks } from "./file-digests.js";
import { DPKG_STATUS, md5sumsPackage, parseMd5sums, parseStatusForIntegrity } from "./dpkg-records.js";
import { findMalware, worthScanning } from "./malware-rules.js";
import { isPackageDigestDatabase, readPackageDigests } from "./package-digests.js";
import { persistencePlace } from "./persistence-paths.js";
import { readScheduledTask, taskName } from "./scheduled-tasks.js";
import { findSecrets, secretsMayHold, secretsSearched } from "./secret-rules.js";
import { isPersistenceHive, readHivePersistence } from "./hive-persistence.js";
import { analyzePe, isPe } from "./pe-analysis.js";
import { isElf, readElf } from "./elf-analysis.js";
import { CORE_SYSTEM_FILE, fileVersion } from "./windows-build-check.js";
import { MAX_YARA_EXECUTABLE_BYTES, type YaraEngine, yaraScans } from "./yara-engine.js";
import { EICAR_MAX_BYTES } from "./yara-rule-sets.js";

/**
 * Bumped whenever a rule, a persistence place or an integrity check changes: it feeds the layer
 * cache key, so cached layers are re-scanned lazily with the new rules.
 */
export const CONTENT_RULES_VERSION = 7;

/** Largest file sent to clamd (its own StreamMaxLength defaults to 25 MB in Debian's config). */
export const MAX_CLAMD_BYTES = 25 * 1024 * 1024;

// pseudo-filesystems and Windows layers' utility VM are not read here
// (dev/shm is kept: a layer that writes a program there is the content engine's business)
const SKIPPED = /^(?:proc|sys)\/|^dev\/(?!shm\/)|^UtilityVM\//;

export interface ContentAnalyzerOptions {
  /** the second engine; without it every finding comes from the portcullis engine alone */
  clamd?: ClamdClient;
  /** the portcullis engine's YARA rules (shipped and the user's) */
  yara?: YaraEngine;
  /**
   * Which halves run, both by default: the rules (YARA, secrets, EICAR, PE/ELF signals, clamd) and
   * the integrity digests (MD5, SHA-1, SHA-256) with the package databases' records they are checked against. One alone is for
   * `bench/analyzer-overhead.ts`, which measures each half's cost; it is named in the cache key.
   */
  parts?: ContentParts;
  /**
   * where the integrity digests are taken: on the walk's thread by default — on the 2-core bench
   * machine a thread of their own cost 7–19 % more CPU for at most 7 % less wall time (README)
   */
  digests?: DigestThread;
}

export interface ContentParts {
  rules: boolean;
  integrity: boolean;
}

/**
 * The content engine's per-layer half: every regular file's MD5 and SHA-256 (for the dpkg integrity
 * cross-check and the findings' evidence), secret and malware rule hits, clamd's verdict on
 * executables and scripts, and the dpkg database records that the image-level half
 * (`contentFindings`) checks the files against.
 */
export function createContentAnalyzer(options: ContentAnalyzerOptions = {}): Analyzer {
  const { clamd } = options;
  const { rules, integrity } = options.parts ?? { rules: true, integrity: true };
  const yara = rules ? options.yara : undefined;
  const partial = rules && integrity ? [] : [`parts:${rules ? "rules" : ""}${integrity ? "integrity" : ""}`];
  const ruleSet = [...(yara ? [`yara:${yara.version}`] : []), ...partial].join(";");
  const digests = options.digests ?? new DigestThread({ threaded: false });
  /** clamd's verdicts and the user's YARA rules' still to come */
  const verdicts = new Set<Promise<void>>();
  /** each layer's package-manager marks so far (file-digests.ts), until the layer settles */
  const marks = new Map<string, LayerMarks>();
  const marksOf = (layer: string | undefined) => {
    if (layer === undefined) return new LayerMarks();
    let seen = marks.get(layer);
    if (seen === undefined) {
      // a walk that failed never settles: the oldest layers' marks go
      if (marks.size >= 64) marks.delete(marks.keys().next().value!);
      seen = new LayerMarks();
      marks.set(layer, seen);
    }
    return seen;
  };
  /** where a file of several chunks is joined for the readers that need it whole */
  const joined = new JoinBuffer();
  async function analyzeFile(
    path: string,
    bytes: FileBytes,
    layer: string | undefined,
  ): Promise<AnalyzerOutput> {
    // the marks choose the integrity half's digests
    const layerMarks = integrity ? marksOf(layer) : undefined;
    layerMarks?.see(path);
    const { head, length } = bytes;
    const scan = worthScanning(path, head, length);
    const small = length <= MAX_YARA_EXECUTABLE_BYTES;
    const isElfFile = rules && small && isElf(head);
    // an ELF file's rules and signals read its chunks in place; every other reader, the whole file
    // its headers read once: for its signals and for the string ranges YARA reads
    const elfRead = isElfFile ? readElf(path, bytes.view) : undefined;
    // the user's rules answer later, on their worker thread, while the walk reads on
    const yaraOutcome =
      yara !== undefined && yaraScans(path, head, length)
        ? await yara.scanDeferred(isElfFile ? bytes.view : bytes.whole(), elfRead?.stringRanges)
        : undefined;
    const yaraHits = yaraOutcome?.hits ?? [];
    const pe = rules && small && isPe(head) ? analyzePe(path, bytes.whole()) : undefined;
    const elf = elfRead?.analysis;
    const version = pe && CORE_SYSTEM_FILE.test(path) ? fileVersion(bytes.whole()) : undefined;
    const database = isPackageDigestDatabase(path);
    const task = taskName(path);
    const secrets =
      rules && secretsSearched(path) && secretsMayHold(head, length) ? findSecrets(bytes.whole()) : [];
    const malware = rules && length <= EICAR_MAX_BYTES ? findMalware(bytes.whole()) : [];
    // what a finding may name (its evidence carries the SHA-256): a rule hit, a signal, a place
    const named =
      path === DPKG_STATUS ||
      persistencePlace(path) !== undefined ||
      task !== undefined ||
      yaraHits.length > 0 ||
      secrets.length > 0 ||
      malware.length > 0 ||
      version !== undefined ||
      (pe !== undefined && !("error" in pe) && pe.signals.length > 0) ||
      (elf !== undefined && !("error" in elf) && elf.signals.length > 0);
    // SHA-256 and SHA-1 also for executables, scripts, small files and the databases: what the apk
    // and rpm cross-checks can verify (file-digests.ts)
    const file: Extract<ContentData, { kind: "file" }> = { kind: "file" };
    // on the digest thread: filled in by the time `settle` resolves, at the end of the layer
    if (integrity)
      await digests.digest(
        bytes.chunks,
        digestsFor(path, named || scan || database || length <= SMALL_FILE, layerMarks!.dpkgOnly),
        file,
      );
    else if (named) file.sha256 = digestOf("sha256", bytes.chunks);
    if (secrets.length > 0) file.secrets = secrets;
    if (malware.length > 0) file.malware = malware;
    if (yaraHits.length > 0) file.yara = yaraHits;
    if (yaraOutcome?.user !== undefined) {
      // written into the record when the worker answers; `settle` waits for it
      const answered = yaraOutcome.user.then((verdict) => {
        if (verdict.error !== undefined) file.yaraError = verdict.error;
        if (verdict.hits.length === 0) return;
        file.yara = [...(file.yara ?? []), ...verdict.hits];
        // a finding names its file's SHA-256: the worker took it, as the walk's bytes are gone
        if (file.sha256 === undefined && verdict.sha256 !== undefined) file.sha256 = verdict.sha256;
      });
      verdicts.add(answered);
      void answered.then(() => verdicts.delete(answered));
    }
    if (pe !== undefined) {
      if ("error" in pe) file.peError = pe.error;
      else if (pe.signals.length > 0) file.pe = pe.signals;
    }
    if (elf !== undefined) {
      if ("error" in elf) file.elfError = elf.error;
      else if (elf.signals.length > 0) file.elf = elf.signals;
    }
    if (version !== undefined) file.fileVersion = version;
    if (rules && clamd && length <= MAX_CLAMD_BYTES && scan) {
      // the verdict is written into the record when clamd answers; `settle` waits for it
      const said = (err: unknown) => {
        file.clamav = { error: (err as Error).message };
      };
      try {
        const { verdict } = await clamd.submit(bytes.whole());
        const answered: Promise<void> = verdict.then((v) => {
          if (v.infected) file.clamav = { signature: v.signature };
        }, said);
        verdicts.add(answered);
        void answered.then(() => verdicts.delete(answered));
      } catch (err) {
        said(err);
      }
    }
    const data: ContentData[] = [file];
    // the package databases' records are what the integrity half checks the digests against
    const pkg = integrity ? md5sumsPackage(path) : undefined;
    if (pkg !== undefined) data.push(parseMd5sums(pkg, bytes.whole().toString("utf8")));
    if (integrity && path === DPKG_STATUS) data.push(parseStatusForIntegrity(bytes.whole()));
    if (integrity && database) data.push(await readPackageDigests(path, bytes.whole()));
    if (task !== undefined) {
      const read = readScheduledTask(task, bytes.whole());
      if ("error" in read)
        return { data, warnings: [{ code: "content-task-unreadable", message: read.error, path }] };
      data.push(read);
    }
    if (isPersistenceHive(path)) {
      const hive = readHivePersistence(path, bytes.whole());
      if ("error" in hive)
        return { data, warnings: [{ code: "content-hive-unreadable", message: hive.error, path }] };
      data.push({ kind: "hive-persistence", entries: hive.entries });
    }
    return { data };
  }

  return {
    name: "content",
    version: CONTENT_RULES_VERSION,
    maxFileSize: 64 * 1024 * 1024,
    readsEveryFile: true,
    ...(ruleSet !== "" ? { ruleSet } : {}),
    // an empty, climbing or NUL-bearing name is no file of the image
    required: (path) => path !== "" && !SKIPPED.test(path) && !/(?:^|\/)\.\.(?:\/|$)|\0/.test(path),
    analyze: ({ path, content, layer }) => analyzeFile(path, new FileBytes(content, joined), layer),
    // a file of several chunks is joined only for the readers that need it whole (most are read by
    // no rule, or are ELF files whose rules read their string ranges): digests go chunk by chunk
    analyzeChunks: ({ path, chunks, layer }) => analyzeFile(path, new FileBytes(chunks, joined), layer),
    settle: async (layer) => {
      marks.delete(layer);
      await Promise.all([digests.settle(), ...verdicts]);
    },
    squash: contentFindings,
  };
}

/** Files up to this size always get a SHA-256: cheap, and most persistence entries are this small. */
const SMALL_FILE = 16 * 1024;

/** Names clamd in the analyzer set, so turning it on or off makes cached layer reports miss. */
/**
 * Names clamd in the analyzer set (it reads nothing itself), so the layer-cache key carries whether
 * clamd ran and, once `pinClamdSignatures` asked it, which signature database: new signatures re-scan
 * layers lazily, like a rule update.
 */
export interface ClamavMarker extends Analyzer {
  readonly clamd: ClamdClient;
}

export function clamavMarker(clamd: ClamdClient): ClamavMarker {
  return { name: "clamav", version: 1, maxFileSize: 0, required: () => false, analyze: () => ({}), clamd };
}

/**
 * `ClamAV 1.4.6/27490/Tue Dec  3 09:33:23 2024` → `1.4.6/27490`: the engine and the signature
 * database's version (the date says nothing the number does not).
 */
export function clamdSignatureVersion(reply: string): string | undefined {
  // with only locally written signature files (no .cvd), clamd names its engine alone
  const m = /^ClamAV ([^/\s]+)(?:\/(\d+))?/.exec(reply.trim());
  if (!m) return undefined;
  return m[2] ? `${m[1]}/${m[2]}` : m[1];
}

/**
 * The analyzer set with clamd's signature version in its marker's `ruleSet` (asked once, with
 * VERSION). A clamd that does not answer is named so: its layers, scanned by portcullis's rules
 * alone, are analysed again once it is back.
 */
export async function pinClamdSignatures(
  analyzers: readonly Analyzer[],
  log?: (message: string) => void,
): Promise<readonly Analyzer[]> {
  return Promise.all(
    analyzers.map(async (a) => {
      if (!("clamd" in a)) return a;
      const marker = a as ClamavMarker;
      let pinned = "unreachable";
      try {
        pinned = clamdSignatureVersion(await marker.clamd.version()) ?? "unknown";
      } catch (err) {
        log?.(
          `clamd (${describeClamd(marker.clamd.address)}) did not answer VERSION: ${(err as Error).message}`,
        );
      }
      return { ...marker, ruleSet: `clamav:${pinned}` };
    }),
  );
}
