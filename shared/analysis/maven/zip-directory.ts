import { inflateRawSync } from "node:zlib";
import { ZipDirectoryError } from "./zip-directory-error.js";

/** One central-directory record of a zip held in memory: what reading its data needs. */
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
 * an event per entry). Malformed input throws a ZipDirectoryError saying what is wrong.
 */
export function readZipDirectory(zip: Buffer): {
  count: number;
  entries(wanted: (name: string) => boolean): ZipEntry[];
} {
  const end = findEnd(zip);
  let count = zip.readUInt16LE(end + 10);
  let size = zip.readUInt32LE(end + 12);
  let offset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = end - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== ZIP64_LOCATOR)
      throw new ZipDirectoryError("zip64", "zip64 locator missing");
    const at = safeNumber(zip.readBigUInt64LE(locator + 8), "zip64 end offset");
    if (at + 56 > zip.length || zip.readUInt32LE(at) !== ZIP64_EOCD)
      throw new ZipDirectoryError("zip64", "zip64 end record missing");
    count = safeNumber(zip.readBigUInt64LE(at + 32), "entry count");
    size = safeNumber(zip.readBigUInt64LE(at + 40), "central directory size");
    offset = safeNumber(zip.readBigUInt64LE(at + 48), "central directory offset");
  }
  if (offset + size > zip.length)
    throw new ZipDirectoryError("directory", "central directory runs past the end of the archive");
  return {
    count,
    entries(wanted) {
      const found: ZipEntry[] = [];
      let at = offset;
      for (let i = 0; i < count; i++) {
        if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL)
          throw new ZipDirectoryError("directory", `central directory entry ${i} is malformed`);
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const next = at + 46 + nameLength + extraLength + zip.readUInt16LE(at + 32);
        if (next > zip.length)
          throw new ZipDirectoryError("directory", `central directory entry ${i} runs past the end`);
        // names are UTF-8 (flag bit 11) or CP437; every name wanted here is ASCII, the same in both
        const fileName = zip.toString("utf8", at + 46, at + 46 + nameLength);
        if (wanted(fileName)) found.push(entryAt(zip, at, fileName, at + 46 + nameLength, extraLength));
        at = next;
      }
      return found;
    },
  };
}

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
export function readZipEntry(zip: Buffer, entry: ZipEntry): Buffer {
  if (entry.flags & 1) throw new ZipDirectoryError("encrypted", `${entry.fileName}: encrypted entry`);
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL)
    throw new ZipDirectoryError("entry-data", `${entry.fileName}: no local file header at ${at}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > zip.length)
    throw new ZipDirectoryError("entry-data", `${entry.fileName}: data runs past the end of the archive`);
  const raw = zip.subarray(start, end);
  let bytes: Buffer;
  if (entry.compressionMethod === 0) bytes = raw;
  else if (entry.compressionMethod === 8) {
    try {
      bytes = inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1 });
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

/** The end-of-central-directory record: the last 22 bytes, or further back behind a comment. */
function findEnd(zip: Buffer): number {
  const stop = Math.max(0, zip.length - 22 - MAX_COMMENT);
  for (let at = zip.length - 22; at >= stop; at--) {
    if (zip.readUInt32LE(at) === EOCD && at + 22 + zip.readUInt16LE(at + 20) <= zip.length) return at;
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
