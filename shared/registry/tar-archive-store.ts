import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { PassThrough, pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { ScanError } from "../model/errors.js";
import { resolveArchiveLink, safeArchiveEntryName } from "./archive-entry-name.js";
import { notFound } from "./directory-layout-store.js";
import type { LayoutStore } from "./layout-store.js";

/** One regular file inside the tar, as the indexing pass saw it. */
export interface TarEntryInfo {
  name: string;
  size: number;
  /** byte offset of the content in the (uncompressed) file, for ranged reads */
  offset: number | undefined;
  /** `sha256:<hex>` of the content, computed while indexing */
  digest: string;
  /** first bytes, to tell gzip/zstd layers from plain tars */
  head: Buffer;
}

export interface TarArchiveStoreOptions {
  /** refuse archives with more entries than this */
  maxEntries?: number;
  /** small entries kept in memory by the indexing pass, in total */
  maxBufferedBytes?: number;
  /** entries at most this large are kept in memory (manifests, configs) */
  maxBufferedEntryBytes?: number;
}

const HEAD_BYTES = 8;
const MAX_LINK_HOPS = 8;

/**
 * The entries of a tar file (optionally gzip-compressed), read with tar-stream and never extracted.
 * One indexing pass records each regular file's offset, size and sha256 and keeps small files in
 * memory; later reads of a plain tar are ranged reads at the recorded offset, a gzipped tar is
 * streamed again up to the entry.
 */
export class TarArchiveStore implements LayoutStore {
  private constructor(
    readonly description: string,
    private readonly file: string,
    private readonly gzipped: boolean,
    private readonly entries: Map<string, TarEntryInfo>,
    private readonly links: Map<string, string>,
    private readonly buffered: Map<string, Buffer>,
  ) {}

  static async open(
    file: string,
    description: string,
    options: TarArchiveStoreOptions = {},
  ): Promise<TarArchiveStore> {
    const gzipped = await startsWithGzipMagic(file, description);
    const entries = new Map<string, TarEntryInfo>();
    const links = new Map<string, string>();
    const buffered = new Map<string, Buffer>();
    const maxEntries = options.maxEntries ?? 100_000;
    const maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    const maxBufferedEntry = options.maxBufferedEntryBytes ?? 4 * 1024 * 1024;
    let bufferedBytes = 0;
    let count = 0;
    const extract = tar.extract();
    const input = openArchiveStream(file, gzipped, extract);
    try {
      for await (const entry of extract) {
        const header = entry.header;
        if (++count > maxEntries)
          throw new ScanError("invalid-archive", `${description}: more than ${maxEntries} entries`);
        const name = safeArchiveEntryName(header.name);
        if (name && (header.type === "symlink" || header.type === "link") && header.linkname) {
          // hardlink targets are archive-relative; symlink targets relative to the link's directory
          const target =
            header.type === "link"
              ? safeArchiveEntryName(header.linkname)
              : resolveArchiveLink(name, header.linkname);
          if (target) links.set(name, target);
        }
        if (!name || (header.type !== "file" && header.type !== "contiguous-file")) {
          entry.resume();
          continue;
        }
        const size = header.size ?? 0;
        const keep = size <= maxBufferedEntry && bufferedBytes + size <= maxBuffered;
        const hash = createHash("sha256");
        const chunks: Buffer[] = [];
        let head = Buffer.alloc(0);
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          if (head.length < HEAD_BYTES)
            head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
          if (keep) chunks.push(chunk);
        }
        const offset = (header as { byteOffset?: unknown }).byteOffset;
        entries.set(name, {
          name,
          size,
          offset: !gzipped && typeof offset === "number" ? offset : undefined,
          digest: `sha256:${hash.digest("hex")}`,
          head,
        });
        links.delete(name);
        if (keep) {
          buffered.set(name, Buffer.concat(chunks));
          bufferedBytes += size;
        } else {
          buffered.delete(name);
        }
      }
    } catch (err) {
      throw archiveError(err, description);
    } finally {
      input.destroy();
    }
    return new TarArchiveStore(description, file, gzipped, entries, links, buffered);
  }

  /** The regular file a name leads to, following links inside the archive. */
  entry(name: string): TarEntryInfo | undefined {
    let current = name;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const found = this.entries.get(current);
      if (found) return found;
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  names(): string[] {
    return [...this.entries.keys(), ...this.links.keys()];
  }

  async stat(name: string): Promise<{ size: number } | undefined> {
    const found = this.entry(name);
    return found ? { size: found.size } : undefined;
  }

  async read(name: string, maxBytes: number): Promise<Buffer> {
    const found = this.entry(name);
    if (!found) throw notFound(this.description, name);
    if (found.size > maxBytes) {
      throw new ScanError(
        "too-large",
        `${this.description}: ${name} is ${found.size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    const kept = this.buffered.get(found.name);
    if (kept) return kept;
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async open(name: string): Promise<Readable> {
    const found = this.entry(name);
    if (!found) throw notFound(this.description, name);
    const kept = this.buffered.get(found.name);
    if (kept) return Readable.from([kept]);
    if (found.size === 0) return Readable.from([]);
    if (found.offset !== undefined) {
      return createReadStream(this.file, { start: found.offset, end: found.offset + found.size - 1 });
    }
    return this.streamEntry(found.name);
  }

  /** Streams the archive again up to the entry (gzip has no random access). */
  private streamEntry(name: string): Readable {
    const out = new PassThrough();
    const extract = tar.extract();
    const input = openArchiveStream(this.file, this.gzipped, extract);
    const description = this.description;
    (async () => {
      for await (const entry of extract) {
        if (safeArchiveEntryName(entry.header.name) !== name) {
          entry.resume();
          continue;
        }
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
          if (out.destroyed) return;
        }
        out.end();
        return;
      }
      out.destroy(notFound(description, name));
    })()
      .catch((err) => out.destroy(archiveError(err, description)))
      .finally(() => input.destroy());
    out.on("close", () => input.destroy());
    return out;
  }
}

function openArchiveStream(file: string, gzipped: boolean, extract: tar.Extract): Readable {
  const input = createReadStream(file);
  const noop = () => {};
  if (gzipped) pipeline(input, createGunzip(), extract, noop);
  else pipeline(input, extract, noop);
  return input;
}

async function startsWithGzipMagic(file: string, description: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof openFile>>;
  try {
    handle = await openFile(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new ScanError("not-found", `${description}: no such file`);
    if ((err as NodeJS.ErrnoException).code === "EISDIR") {
      throw new ScanError(
        "invalid-archive",
        `${description}: is a directory, not a tar file (use oci:<dir> for a layout directory)`,
      );
    }
    throw err;
  }
  try {
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    return magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function archiveError(err: unknown, description: string): ScanError {
  if (err instanceof ScanError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ScanError("invalid-archive", `${description}: not a readable tar archive: ${reason}`, {
    cause: err,
  });
}
