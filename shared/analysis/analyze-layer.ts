import type { WarningCode } from "../model/warning-codes.js";
import type { Readable, Transform } from "node:stream";
import tar from "tar-stream";
import type { LayerRef } from "../model/image.js";
import type { Limits } from "../model/limits.js";
import { ScanError } from "../model/errors.js";
import type { Analyzer } from "./analyzer.js";
import { createDecompressor, detectCompression, peek } from "./decompress.js";
import { readEntryChunks } from "./entry-chunks.js";
import { RecyclingGunzip } from "./recycling-gunzip.js";
import type { Compression, FileResult, LayerReport, LinkEntry } from "./layer-report.js";
import { PathRouter } from "./path-router.js";
import { analyzerSetVersion } from "./registry.js";
import { normalizeTarPath, parseWhiteout, resolveLinkTarget } from "./tar-path.js";
import { WarningCap } from "./warning-cap.js";

export interface AnalyzeLayerOptions {
  analyzers: readonly Analyzer[];
  limits: Limits;
}

type TarHeader = tar.Header;
/** tar-stream's entry: a streamx Readable */
type EntryStream = tar.ExtractEvents["entry"][1];

/**
 * Streams one layer blob once: sniffs the compression, decompresses, walks the tar and hands each
 * analyzer only the files it asked for. Nothing is written to disk or executed; sizes, entry counts
 * and file reads are bounded by `limits`. Corrupt input rejects with a permanent ScanError.
 */
export async function analyzeLayer(
  stream: Readable,
  layer: LayerRef,
  options: AnalyzeLayerOptions,
): Promise<LayerReport> {
  let compression: Compression;
  let rest: Readable;
  try {
    const peeked = await peek(stream, 6);
    rest = peeked.rest;
    compression = detectCompression(peeked.head);
  } catch (err) {
    stream.destroy();
    throw asScanError(err, layer.digest, "source");
  }
  const walk = new LayerWalk(layer, options);
  await walk.run(rest, compression);
  try {
    await Promise.all(options.analyzers.map((a) => a.settle?.(layer.digest)));
  } catch (err) {
    throw asScanError(err, layer.digest, "analyzer");
  }
  return {
    schemaVersion: 1,
    digest: layer.digest,
    analyzerSet: analyzerSetVersion(options.analyzers),
    compression,
    entries: walk.entries,
    bytes: walk.bytes,
    files: walk.files,
    links: walk.links,
    whiteouts: walk.whiteouts,
    opaqueDirs: walk.opaqueDirs,
    warnings: walk.warnings.list(),
  };
}

/** The state of one pass over a layer's tar. */
class LayerWalk {
  entries = 0;
  bytes = 0;
  readonly files: FileResult[] = [];
  readonly links: LinkEntry[] = [];
  readonly whiteouts: string[] = [];
  readonly opaqueDirs: string[] = [];
  readonly warnings = new WarningCap();
  /** contents read for path-specific analyzers, so a hardlink to one of them can be analysed too */
  private readonly read = new Map<string, Buffer>();
  private readBytes = 0;
  /** what `readsEveryFile` analyzers said of each file: a hardlink gets its target's result, no bytes kept */
  private readonly everyFile = new Map<string, FileResult[]>();
  /** analyzers that look at every file's header (modes), not at contents */
  private readonly inspectors: readonly Analyzer[];
  private readonly router: PathRouter;
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly layer: LayerRef,
    private readonly options: AnalyzeLayerOptions,
  ) {
    this.inspectors = options.analyzers.filter((a) => a.inspect !== undefined);
    this.router = new PathRouter(options.analyzers);
  }

  run(stream: Readable, compression: Compression): Promise<void> {
    const { limits } = this.options;
    const digest = this.layer.digest;
    const decompressor: Transform | undefined = createDecompressor(compression);
    const extract = tar.extract();
    const tarInput: Readable = decompressor ? stream.pipe(decompressor) : stream;
    const recycler = decompressor instanceof RecyclingGunzip ? decompressor : undefined;

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown, origin: ErrorOrigin) => {
        if (settled) return;
        settled = true;
        stream.unpipe();
        stream.destroy();
        decompressor?.destroy();
        extract.destroy();
        reject(asScanError(err, digest, origin));
      };

      stream.on("error", (err) => fail(err, "source"));
      decompressor?.on("error", (err) => fail(err, compression));
      extract.on("error", (err) => fail(err, "tar"));
      extract.on("finish", () => {
        if (settled) return;
        settled = true;
        resolve();
      });

      // a hand-written pump instead of a Transform: counts bytes without another copy or stream hop
      tarInput.on("data", (chunk: Buffer) => {
        if (settled) return;
        this.bytes += chunk.length;
        if (this.bytes > limits.maxLayerBytes) {
          fail(
            new ScanError(
              "layer-too-large",
              `layer ${digest} decompresses to more than ${limits.maxLayerBytes} bytes (limits.maxLayerBytes); analysis stopped`,
            ),
            "limit",
          );
          return;
        }
        if (!extract.write(chunk)) tarInput.pause();
      });
      extract.on("drain", () => tarInput.resume());
      tarInput.on("end", () => {
        if (!settled) extract.end(undefined);
      });

      extract.on("entry", (header: TarHeader, entry: EntryStream, next: (err?: Error | null) => void) => {
        // an entry's own errors come from the extract's, which `fail` already handles
        entry.on("error", () => {});
        // every byte before this entry's data is parsed, or read by analyzers that have settled: the
        // inflater may write into those buffers again (tar-stream's offset of the entry's data)
        const dataOffset = (header as { byteOffset?: unknown }).byteOffset;
        if (recycler && typeof dataOffset === "number") recycler.release(dataOffset);
        try {
          const pending = this.onEntry(header, entry);
          if (pending)
            pending.then(
              () => next(),
              (err) => fail(err, "analyzer"),
            );
          else entry.on("end", () => next());
          entry.resume();
        } catch (err) {
          fail(err, "limit");
        }
      });
    });
  }

  /** Handles one entry; returns a promise only when the entry's content is read for analyzers. */
  private onEntry(header: TarHeader, entry: EntryStream): Promise<void> | undefined {
    const { limits } = this.options;
    if (++this.entries > limits.maxLayerEntries) {
      throw new ScanError(
        "layer-too-many-entries",
        `layer ${this.layer.digest} has more than ${limits.maxLayerEntries} entries (limits.maxLayerEntries); analysis stopped`,
      );
    }
    const path = normalizeTarPath(header.name);
    if (path === undefined) {
      this.warn(
        "path-escape",
        `entry name escapes the layer root and was skipped: ${JSON.stringify(header.name)}`,
      );
      return undefined;
    }
    if (path === "") return undefined;

    const whiteout = parseWhiteout(path);
    if (whiteout) {
      if (whiteout.kind === "delete") this.whiteouts.push(whiteout.path);
      else if (whiteout.kind === "opaque") this.opaqueDirs.push(whiteout.dir);
      return undefined;
    }

    if (header.type === "symlink" || header.type === "link") {
      return this.onLink(path, header.type === "symlink" ? "symlink" : "hardlink", header.linkname ?? "");
    }
    if (header.type !== "file" && header.type !== "contiguous-file") return undefined;
    if (this.inspectors.length > 0) this.inspect(path, header);

    const wanted = this.router.wanting(path);
    if (wanted.length === 0) return undefined;
    const size = header.size ?? 0;
    const fits = wanted.filter((a) => {
      const max = Math.min(a.maxFileSize, limits.maxFileBytes);
      if (size <= max) return true;
      this.warn(
        "file-too-large",
        `${path} is ${size} bytes, more than ${a.name} reads (${max}); skipped`,
        path,
      );
      return false;
    });
    if (fits.length === 0) return undefined;
    // readers of parts of a large file (a jar's directory) get its chunks, neither joined nor kept
    if (fits.every((a) => a.analyzeChunks !== undefined))
      return readEntryChunks(entry).then((chunks) => this.runAnalyzers(fits, path, chunks));
    // only path-specific analyzers (package databases) need the bytes again for a hardlink
    const keep = fits.some((a) => !a.readsEveryFile);
    // engines that read every file keep nothing of it once analysed: their files share one buffer,
    // so most of a layer's bytes allocate nothing (fresh buffers make V8 collect garbage far more often)
    const scratch = keep ? undefined : this.scratchFor(size);
    // path-specific analyzers may keep what they were given: their bytes are their own, not the inflater's
    return readEntry(entry, size, scratch, keep).then((content) => {
      if (keep && this.readBytes + content.length <= limits.maxFileBytes) {
        this.read.set(path, content);
        this.readBytes += content.length;
      }
      return this.runAnalyzers(fits, path, content);
    });
  }

  /** The shared buffer for files only `readsEveryFile` analyzers read, grown to the largest such file. */
  private scratchFor(size: number): Buffer {
    if (this.scratch.length < size)
      this.scratch = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.scratch.length));
    return this.scratch;
  }

  /** Header-only analyzers (file modes): no content is read for them. */
  private inspect(path: string, header: TarHeader): void {
    const entry = { path, mode: header.mode ?? 0, size: header.size ?? 0 };
    for (const analyzer of this.inspectors) {
      const found = analyzer.inspect!(entry);
      if (found === undefined) continue;
      const { warnings, ...output } = found;
      for (const w of warnings ?? []) this.warnings.add({ ...w, layer: this.layer.digest });
      this.files.push({ analyzer: analyzer.name, path, output });
    }
  }

  private onLink(path: string, type: "symlink" | "hardlink", target: string): Promise<void> | undefined {
    const resolved = resolveLinkTarget(path, target, type);
    const wanted = this.router.wanting(path);
    if (resolved === undefined) {
      this.warn(
        "link-escape",
        `${type} ${path} → ${target} points outside the layer root; not followed`,
        path,
      );
    }
    if (resolved === undefined || wanted.length > 0) this.links.push({ path, type, target });
    if (type !== "hardlink" || resolved === undefined || wanted.length === 0) return undefined;
    const content = this.read.get(resolved);
    // a hardlink is the same file under a second name; analyzers see it as such
    if (content !== undefined) return this.runAnalyzers(wanted, path, content);
    const reused = this.everyFile.get(resolved) ?? [];
    const unresolved = wanted.filter((a) => !reused.some((r) => r.analyzer === a.name));
    for (const result of reused)
      if (wanted.some((a) => a.name === result.analyzer)) this.record({ ...result, path }, true);
    if (unresolved.length > 0) {
      this.warn(
        "hardlink-unresolved",
        `hardlink ${path} → ${target}: target was not read in this layer (${unresolved.map((a) => a.name).join(", ")})`,
        path,
      );
    }
    return undefined;
  }

  private async runAnalyzers(
    analyzers: readonly Analyzer[],
    path: string,
    content: Buffer | readonly Buffer[],
  ): Promise<void> {
    const chunked = !Buffer.isBuffer(content);
    for (const analyzer of analyzers) {
      try {
        const answer = await (chunked
          ? analyzer.analyzeChunks!({ path, chunks: content, layer: this.layer.digest })
          : analyzer.analyze({ path, content, layer: this.layer.digest }));
        // most answers carry no warnings: kept as they are (a rest copy per file of every-file engines)
        let output = answer;
        if (answer.warnings !== undefined) {
          const { warnings, ...rest } = answer;
          for (const w of warnings) this.warnings.add({ ...w, layer: this.layer.digest });
          output = rest;
        }
        // no bytes were kept of a chunked read: a hardlink to it gets this result, as an engine's does
        this.record({ analyzer: analyzer.name, path, output }, analyzer.readsEveryFile === true || chunked);
      } catch (err) {
        this.warn("analyzer-failed", `${analyzer.name} failed on ${path}: ${(err as Error).message}`, path);
      }
    }
  }

  private record(result: FileResult, everyFile: boolean): void {
    this.files.push(result);
    if (!everyFile) return;
    // a later entry of the same name replaces the earlier one, as extracting the tar would
    const seen = this.everyFile.get(result.path);
    if (seen === undefined) this.everyFile.set(result.path, [result]);
    else this.everyFile.set(result.path, [...seen.filter((r) => r.analyzer !== result.analyzer), result]);
  }

  private warn(code: WarningCode, message: string, path?: string): void {
    this.warnings.add({ code, message, layer: this.layer.digest, ...(path === undefined ? {} : { path }) });
  }
}

/**
 * Reads one tar entry into a single buffer of its declared size. An entry that arrives in one chunk
 * (most files: the inflater hands out 128 KiB) is that chunk itself, not a copy, unless `owned`
 * (the inflater reuses its chunks); others are copied once, into `into` when given (large enough
 * for `size`) or a new buffer.
 */
function readEntry(
  entry: EntryStream,
  size: number,
  into: Buffer | undefined,
  owned: boolean,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let content: Buffer | undefined;
    let offset = 0;
    entry.on("data", (data) => {
      const chunk = data as Buffer;
      if (first === undefined && content === undefined) {
        first = chunk;
        offset = chunk.length;
        return;
      }
      if (content === undefined) {
        const need = Math.max(size, offset + chunk.length);
        content = into !== undefined && into.length >= need ? into : Buffer.allocUnsafe(need);
        first!.copy(content, 0);
        first = undefined;
      }
      offset += chunk.copy(content, offset);
    });
    entry.on("end", () => {
      const whole = content ?? (first && owned ? Buffer.from(first) : first) ?? Buffer.alloc(0);
      resolve(whole.length === offset ? whole : whole.subarray(0, offset));
    });
    entry.on("error", reject);
  });
}

type ErrorOrigin = "source" | "limit" | "tar" | "analyzer" | Compression;

function asScanError(err: unknown, digest: string, origin: ErrorOrigin): ScanError {
  if (err instanceof ScanError) return err;
  const message = err instanceof Error ? err.message : String(err);
  switch (origin) {
    case "gzip":
    case "zstd":
      return new ScanError(
        "layer-corrupt",
        `layer ${digest}: truncated or corrupt ${origin} stream (${message})`,
        {
          cause: err,
        },
      );
    case "tar":
    case "none":
      return new ScanError("layer-corrupt", `layer ${digest}: corrupt or truncated tar (${message})`, {
        cause: err,
      });
    case "source":
      // the network or the disk failed under us: another attempt may succeed
      return new ScanError("layer-read-failed", `layer ${digest}: reading the blob failed (${message})`, {
        permanent: false,
        cause: err,
      });
    default:
      return new ScanError("layer-analysis-failed", `layer ${digest}: ${message}`, { cause: err });
  }
}
