import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { crc32, inflateRawSync } from "node:zlib";
import yauzl from "yauzl";
import { BlockCacheReader } from "./block-cache-reader.js";
import { ScanError } from "../model/errors.js";
import { ZipReadError } from "./zip-read-error.js";

/** The public OSV export bucket: `<base>/<Ecosystem>/all.zip`. */
export const DEFAULT_OSV_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com";

/** What the inventory produces, so what a default update fetches. */
export const DEFAULT_ECOSYSTEMS = [
  "Debian",
  "Alpine",
  "npm",
  "PyPI",
  "Go",
  "Maven",
  "NuGet",
  "RubyGems",
  "crates.io",
  // the distributions the inventory names (shared/analysis/os/osv-ecosystem.ts) with a reader today
  "Ubuntu",
  "Wolfi",
  "Chainguard",
  // the rpm distributions OSV publishes (shared/analysis/os/osv-ecosystem.ts)
  "Rocky Linux",
  "AlmaLinux",
  "Azure Linux",
  "Mageia",
  "Photon OS",
  "Red Hat",
  "openEuler",
  "SUSE",
  "openSUSE",
];

export interface FeedFingerprint {
  etag?: string;
  lastModified?: string;
}

export type ExportDownload =
  | { status: "not-modified"; url: string }
  | { status: "downloaded"; url: string; file: string; bytes: number; fingerprint: FeedFingerprint };

export interface FetchExportOptions {
  baseUrl: string;
  ecosystem: string;
  /** the whole URL, for a feed published elsewhere than `<base>/<Ecosystem>/all.zip` (CVE records) */
  url?: string;
  previous?: FeedFingerprint;
  /** largest export accepted (bytes on the wire) */
  maxBytes?: number;
  fetch?: typeof globalThis.fetch;
  tmpDir?: string;
  signal?: AbortSignal;
}

export function exportUrl(baseUrl: string, ecosystem: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/**
 * Downloads one ecosystem's `all.zip` to a temporary file, conditionally: with the previous ETag /
 * Last-Modified a 304 costs one small request. A body cut short or over the size bound is an error
 * and leaves no file behind.
 */
export async function fetchOsvExport(options: FetchExportOptions): Promise<ExportDownload> {
  const url = options.url ?? exportUrl(options.baseUrl, options.ecosystem);
  const headers: Record<string, string> = {};
  if (options.previous?.etag) headers["If-None-Match"] = options.previous.etag;
  if (options.previous?.lastModified) headers["If-Modified-Since"] = options.previous.lastModified;
  const doFetch = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    throw new ScanError("db-feed-unreachable", `cannot fetch ${url}: ${(err as Error).message}`, {
      permanent: false,
      cause: err,
    });
  }
  if (res.status === 304) {
    await res.body?.cancel();
    return { status: "not-modified", url };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ScanError("db-feed-http", `fetching ${url} failed: HTTP ${res.status}`, {
      permanent: res.status === 404,
    });
  }
  const maxBytes = options.maxBytes ?? 2 * 1024 ** 3;
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body.cancel();
    throw new ScanError("db-feed-too-large", `${url} is ${declared} bytes, over the ${maxBytes}-byte bound`);
  }
  const file = path.join(
    options.tmpDir ?? os.tmpdir(),
    `portcullis-osv-${randomBytes(6).toString("hex")}.zip`,
  );
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(bytes > maxBytes ? new Error(`export exceeds ${maxBytes} bytes`) : null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(file),
    );
    if (Number.isFinite(declared) && bytes !== declared)
      throw new ScanError("db-feed-interrupted", `got ${bytes} of ${declared} bytes`, { permanent: false });
  } catch (err) {
    await rm(file, { force: true });
    throw new ScanError(
      "db-feed-interrupted",
      `download of ${url} did not complete: ${(err as Error).message}`,
      {
        permanent: false,
        cause: err,
      },
    );
  }
  const fingerprint: FeedFingerprint = {};
  const etag = res.headers.get("etag");
  const lastModified = res.headers.get("last-modified");
  if (etag) fingerprint.etag = etag;
  if (lastModified) fingerprint.lastModified = lastModified;
  return { status: "downloaded", url, file, bytes, fingerprint };
}

export interface ZipEntryLimits {
  /** largest single entry read into memory */
  maxEntryBytes?: number;
  /** most entries read from one archive */
  maxEntries?: number;
}

export type ZipEntryHandler = (name: string, data: Buffer | { tooLarge: number }) => void;

/**
 * Reads every file entry of a zip, one at a time, bounded in size. A damaged archive rejects with
 * `db-feed-corrupt`; an oversized entry is reported to the handler instead of read.
 */
/** An entry's bytes, inflated within the bound and checked against the sizes and CRC the zip records. */
function inflateEntry(entry: yauzl.Entry, raw: Buffer, maxEntryBytes: number): Buffer {
  let data: Buffer;
  if (entry.compressionMethod === 0) data = raw;
  else if (entry.compressionMethod === 8) data = inflateRawSync(raw, { maxOutputLength: maxEntryBytes });
  else
    throw new ZipReadError(
      "unsupported-compression",
      `${entry.fileName}: unsupported compression method ${entry.compressionMethod}`,
    );
  if (data.length !== entry.uncompressedSize)
    throw new ZipReadError(
      "size-mismatch",
      `${entry.fileName}: ${data.length} bytes, the zip says ${entry.uncompressedSize}`,
    );
  if (crc32(data) !== entry.crc32) throw new ZipReadError("crc-mismatch", `${entry.fileName}: CRC mismatch`);
  return data;
}

export async function readZipEntries(
  file: string,
  limits: ZipEntryLimits,
  onEntry: ZipEntryHandler,
): Promise<number> {
  const maxEntryBytes = limits.maxEntryBytes ?? 16 * 1024 ** 2;
  const maxEntries = limits.maxEntries ?? 2_000_000;
  const corrupt = (err: unknown) =>
    new ScanError(
      "db-feed-corrupt",
      `${path.basename(file)} is not a readable zip: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(file, "r");
    size = (await handle.stat()).size;
  } catch (err) {
    throw corrupt(err);
  }
  const reader = new BlockCacheReader(handle, size);
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: true }, (openErr, zip) => {
      if (openErr || !zip) {
        reader.close(() => {});
        return reject(corrupt(openErr));
      }
      let count = 0;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        zip.close();
        reject(err instanceof ScanError ? err : corrupt(err));
      };
      zip.on("error", fail);
      zip.on("end", () => {
        if (!failed) resolve(count);
      });
      zip.on("entry", (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith("/")) return zip.readEntry();
        if (++count > maxEntries)
          return fail(new ScanError("db-feed-too-large", `more than ${maxEntries} entries`));
        if (entry.uncompressedSize > maxEntryBytes) {
          onEntry(entry.fileName, { tooLarge: entry.uncompressedSize });
          return zip.readEntry();
        }
        // raw bytes, inflated synchronously: ~100,000 small entries through async zlib streams cost a
        // thread-pool round trip each, which dominated a whole update
        // yauzl throws synchronously when asked not to decompress a stored entry: ask only for deflated
        // ones, and catch whatever it throws here, where nothing else would
        const rawOptions = entry.isCompressed() ? { decompress: false as const } : {};
        const opened = (streamErr: Error | null, stream?: Readable) => {
          if (streamErr || !stream) return fail(streamErr);
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on("data", (c: Buffer) => {
            size += c.length;
            if (size > maxEntryBytes)
              stream.destroy(new Error(`${entry.fileName} exceeds ${maxEntryBytes} bytes`));
            else chunks.push(c);
          });
          stream.on("error", fail);
          stream.on("end", () => {
            try {
              onEntry(entry.fileName, inflateEntry(entry, Buffer.concat(chunks), maxEntryBytes));
            } catch (err) {
              return fail(err);
            }
            zip.readEntry();
          });
        };
        try {
          zip.openReadStream(entry, rawOptions, opened);
        } catch (err) {
          fail(err);
        }
      });
      zip.readEntry();
    });
  });
}
