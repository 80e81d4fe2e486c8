import { inflateRawSync } from "node:zlib";
import { inflateSmallEntry, SMALL_ENTRY } from "./small-inflate.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { ZipDirectoryError } from "./zip-directory-error.js";

/**
 * A test of a name's raw bytes (`dir[start..end)`) before it is decoded: false skips the entry. A
 * jar lists thousands of classes; a string for each name was most of the listing's cost.
 */
export type NameFilter = (dir: Buffer, start: number, end: number) => boolean;

/** One central-directory record of a zip held in memory (whole or in chunks): what reading its data needs. */
export interface ZipEntry {
  fileName: string;
  flags: number;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

/**
 * The zip's entry count and a walk over its central directory that builds an entry only for names
 * `wanted` keeps. A jar's listing is most of its reading time, and it holds thousands of names of
 * which a handful are wanted: this reads the directory in place (yauzl made a buffer, an object and
 * an event per entry). The zip may be the chunks a layer walk read it in: only the tail and the
 * directory are touched, never the whole file. Malformed input throws a ZipDirectoryError.
 */
export function readZipDirectory(zip: Buffer | ChunkedBytes): {
  count: number;
  entries(wanted: (name: string) => boolean, candidate?: NameFilter): ZipEntry[];
} {
  const bytes = ChunkedBytes.of(zip);
  const end = findEnd(bytes);
  const record = bytes.slice(end, end + 22);
  let count = record.readUInt16LE(10);
  let size = record.readUInt32LE(12);
  let offset = record.readUInt32LE(16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = end - 20;
    if (locator < 0 || bytes.slice(locator, end).readUInt32LE(0) !== ZIP64_LOCATOR)
      throw new ZipDirectoryError("zip64", "zip64 locator missing");
    const at = safeNumber(bytes.slice(locator + 8, locator + 16).readBigUInt64LE(0), "zip64 end offset");
    const zip64 = at + 56 <= bytes.length ? bytes.slice(at, at + 56) : undefined;
    if (zip64 === undefined || zip64.readUInt32LE(0) !== ZIP64_EOCD)
      throw new ZipDirectoryError("zip64", "zip64 end record missing");
    count = safeNumber(zip64.readBigUInt64LE(32), "entry count");
    size = safeNumber(zip64.readBigUInt64LE(40), "central directory size");
    offset = safeNumber(zip64.readBigUInt64LE(48), "central directory offset");
  }
  if (offset + size > bytes.length)
    throw new ZipDirectoryError("directory", "central directory runs past the end of the archive");
  return {
    count,
    entries(wanted, candidate) {
      // the directory alone, as one buffer: a view when one chunk holds it
      const dir = bytes.slice(offset, offset + size);
      const found: ZipEntry[] = [];
      let at = 0;
      for (let i = 0; i < count; i++) {
        // plain byte reads: this loop runs once per class of every jar, Buffer's checked readers cost more
        if (at + 46 > dir.length || u32(dir, at) !== CENTRAL)
          throw new ZipDirectoryError("directory", `central directory entry ${i} is malformed`);
        const nameLength = u16(dir, at + 28);
        const extraLength = u16(dir, at + 30);
        const next = at + 46 + nameLength + extraLength + u16(dir, at + 32);
        if (next > dir.length)
          throw new ZipDirectoryError("directory", `central directory entry ${i} runs past the end`);
        // names are UTF-8 (flag bit 11) or CP437; every name wanted here is ASCII, the same in both
        if (candidate === undefined || candidate(dir, at + 46, at + 46 + nameLength)) {
          const fileName = dir.toString("utf8", at + 46, at + 46 + nameLength);
          if (wanted(fileName)) found.push(entryAt(dir, at, fileName, at + 46 + nameLength, extraLength));
        }
        at = next;
      }
      return found;
    },
  };
}

/** Little-endian reads within bounds the caller checked. */
const u16 = (b: Buffer, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Buffer, at: number) => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;

function entryAt(zip: Buffer, at: number, fileName: string, extra: number, extraLength: number): ZipEntry {
  const entry: ZipEntry = {
    fileName,
    flags: zip.readUInt16LE(at + 8),
    compressionMethod: zip.readUInt16LE(at + 10),
    compressedSize: zip.readUInt32LE(at + 20),
    uncompressedSize: zip.readUInt32LE(at + 24),
    localHeaderOffset: zip.readUInt32LE(at + 42),
  };
  // zip64: the extra field holds, in this order, each of the three that read as 0xffffffff
  const wide = (["uncompressedSize", "compressedSize", "localHeaderOffset"] as const).filter(
    (k) => entry[k] === 0xffffffff,
  );
  if (wide.length === 0) return entry;
  for (let p = extra; p + 4 <= extra + extraLength; ) {
    const id = zip.readUInt16LE(p);
    const length = zip.readUInt16LE(p + 2);
    if (id === 0x0001) {
      if (length < wide.length * 8 || p + 4 + length > extra + extraLength)
        throw new ZipDirectoryError("zip64", `${fileName}: zip64 extra field too short`);
      wide.forEach((k, j) => {
        entry[k] = safeNumber(zip.readBigUInt64LE(p + 4 + j * 8), `${fileName}: ${k}`);
      });
      return entry;
    }
    p += 4 + length;
  }
  throw new ZipDirectoryError("zip64", `${fileName}: zip64 sizes without a zip64 extra field`);
}

/**
 * The entry's bytes, inflated synchronously straight from the archive in memory and capped at the
 * size its header declares (one byte more tells a lie from the truth, checked after).
 */
export function readZipEntry(zip: Buffer | ChunkedBytes, entry: ZipEntry): Buffer {
  if (entry.flags & 1) throw new ZipDirectoryError("encrypted", `${entry.fileName}: encrypted entry`);
  const archive = ChunkedBytes.of(zip);
  const at = entry.localHeaderOffset;
  const local = at + 30 <= archive.length ? archive.slice(at, at + 30) : undefined;
  if (local === undefined || local.readUInt32LE(0) !== LOCAL)
    throw new ZipDirectoryError("entry-data", `${entry.fileName}: no local file header at ${at}`);
  const start = at + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const end = start + entry.compressedSize;
  if (end > archive.length)
    throw new ZipDirectoryError("entry-data", `${entry.fileName}: data runs past the end of the archive`);
  const raw = archive.slice(start, end);
  let bytes: Buffer;
  if (entry.compressionMethod === 0) bytes = raw;
  else if (entry.compressionMethod === 8) {
    try {
      if (entry.uncompressedSize <= SMALL_ENTRY) bytes = inflateSmallEntry(raw, entry.uncompressedSize);
      else {
        // an output buffer of the declared size (zlib would take 16 KiB a call), capped at 1 MiB a step
        const chunkSize = Math.min(entry.uncompressedSize + 1, 1024 * 1024);
        bytes = inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1, chunkSize });
      }
    } catch (err) {
      throw new ZipDirectoryError("entry-data", `${entry.fileName}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else
    throw new ZipDirectoryError(
      "unsupported-compression",
      `${entry.fileName}: unsupported compression method ${entry.compressionMethod}`,
    );
  if (bytes.length !== entry.uncompressedSize)
    throw new ZipDirectoryError(
      "size-mismatch",
      `${entry.fileName}: inflates to ${bytes.length > entry.uncompressedSize ? "more" : "less"} than the ${entry.uncompressedSize} bytes its header declares`,
    );
  return bytes;
}

/**
 * The end-of-central-directory record: the last 22 bytes, or further back behind a comment (the
 * last KiB is searched first: most archives have no comment, and the whole window may be a copy).
 */
function findEnd(zip: ChunkedBytes): number {
  for (const window of [22 + 1024, 22 + MAX_COMMENT]) {
    const from = Math.max(0, zip.length - window);
    const tail = zip.slice(from, zip.length);
    for (let at = tail.length - 22; at >= 0; at--) {
      if (tail.readUInt32LE(at) === EOCD && at + 22 + tail.readUInt16LE(at + 20) <= tail.length)
        return from + at;
    }
    if (from === 0) break;
  }
  throw new ZipDirectoryError(
    "not-a-zip",
    "end of central directory record not found (not a zip, or truncated)",
  );
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ZipDirectoryError("out-of-range", `${what} is out of range`);
  return Number(value);
}
