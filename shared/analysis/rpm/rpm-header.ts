/**
 * An rpm header blob as the rpm database stores it (no lead, no signature, no magic): a big-endian
 * count of index entries and of data bytes, the 16-byte index entries, then the data store.
 */

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  VENDOR: 1011,
  ARCH: 1022,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
} as const;

// rpm itself refuses headers past these (hdrchkTags / hdrchkData); a hostile count stops here
const MAX_INDEX_ENTRIES = 0xffff;
const MAX_DATA_BYTES = 256 * 1024 * 1024;

interface IndexEntry {
  type: number;
  offset: number;
  count: number;
}

export class RpmHeaderError extends Error {}

/** The tags of one header, read lazily from its data store; every offset is checked against the blob. */
export class RpmHeader {
  private readonly entries = new Map<number, IndexEntry>();
  private readonly data: Buffer;

  constructor(blob: Buffer) {
    if (blob.length < 8) throw new RpmHeaderError(`header blob of ${blob.length} bytes is too short`);
    const il = blob.readUInt32BE(0);
    const dl = blob.readUInt32BE(4);
    if (il === 0 || il > MAX_INDEX_ENTRIES)
      throw new RpmHeaderError(`header index count ${il} is out of range`);
    if (dl > MAX_DATA_BYTES) throw new RpmHeaderError(`header data length ${dl} is out of range`);
    const dataStart = 8 + il * 16;
    if (dataStart + dl > blob.length) {
      throw new RpmHeaderError(`header claims ${dataStart + dl} bytes but the blob has ${blob.length}`);
    }
    this.data = blob.subarray(dataStart, dataStart + dl);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = blob.readUInt32BE(at);
      const type = blob.readUInt32BE(at + 4);
      const offset = blob.readInt32BE(at + 8);
      const count = blob.readUInt32BE(at + 12);
      if (offset < 0 || offset >= dl) continue; // a region trailer or a damaged entry: never followed
      if (!this.entries.has(tag)) this.entries.set(tag, { type, offset, count });
    }
  }

  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e || (e.type !== TYPE_STRING && e.type !== TYPE_I18NSTRING && e.type !== TYPE_STRING_ARRAY)) {
      return undefined;
    }
    return this.cString(e.offset)?.text;
  }

  /** A string array's items, at most `max`; an item running past the data store ends the list. */
  stringArray(tag: number, max: number): string[] {
    const e = this.entries.get(tag);
    if (!e || e.type !== TYPE_STRING_ARRAY) return [];
    const out: string[] = [];
    let at = e.offset;
    for (let i = 0; i < Math.min(e.count, max); i++) {
      const item = this.cString(at);
      if (!item) break;
      out.push(item.text);
      at = item.next;
    }
    return out;
  }

  int32(tag: number): number | undefined {
    return this.int32Array(tag, 1)[0];
  }

  int32Array(tag: number, max = Number.POSITIVE_INFINITY): number[] {
    const e = this.entries.get(tag);
    if (!e || e.type !== TYPE_INT32) return [];
    const n = Math.min(e.count, max, Math.floor((this.data.length - e.offset) / 4));
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.data.readInt32BE(e.offset + i * 4));
    return out;
  }

  private cString(at: number): { text: string; next: number } | undefined {
    const end = this.data.indexOf(0, at);
    if (end < 0) return undefined;
    return { text: this.data.toString("utf8", at, end), next: end + 1 };
  }
}

/** What the analyzer keeps of a header: rpm -qa's NAME, EPOCHNUM, VERSION, RELEASE, ARCH, SOURCERPM, VENDOR. */
export interface RpmPackage {
  name: string;
  epoch?: number;
  version: string;
  release: string;
  arch?: string;
  sourceRpm?: string;
  vendor?: string;
}

export function readRpmPackage(blob: Buffer): RpmPackage {
  const h = new RpmHeader(blob);
  const name = h.string(TAG.NAME);
  const version = h.string(TAG.VERSION);
  const release = h.string(TAG.RELEASE);
  if (!name || version === undefined || release === undefined) {
    throw new RpmHeaderError("header lacks a name, version or release");
  }
  const epoch = h.int32(TAG.EPOCH);
  const arch = h.string(TAG.ARCH);
  const sourceRpm = h.string(TAG.SOURCERPM);
  const vendor = h.string(TAG.VENDOR);
  return {
    name,
    version,
    release,
    ...(epoch !== undefined ? { epoch } : {}),
    ...(arch ? { arch } : {}),
    ...(sourceRpm ? { sourceRpm } : {}),
    ...(vendor ? { vendor } : {}),
  };
}

/** `util-linux-2.32.1-42.el8_8.src.rpm` → name and version-release. */
export function parseSourceRpm(file: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(file);
  if (!m) return undefined;
  return { name: m[1]!, version: m[2]!, release: m[3]! };
}

// rpm keeps a file list as basenames, each with an index into the directory list
const MAX_FILES = 1_000_000;

/** The package's name and its files (`/usr/lib/…`), from the BASENAMES / DIRNAMES / DIRINDEXES tags. */
export function readRpmFiles(blob: Buffer): { name: string; files: string[] } {
  const h = new RpmHeader(blob);
  const name = h.string(TAG.NAME);
  if (!name) throw new RpmHeaderError("header lacks a name");
  const bases = h.stringArray(TAG.BASENAMES, MAX_FILES);
  const dirs = h.stringArray(TAG.DIRNAMES, MAX_FILES);
  const index = h.int32Array(TAG.DIRINDEXES, bases.length);
  const files: string[] = [];
  for (const [i, base] of bases.entries()) {
    const dir = dirs[index[i] ?? -1];
    if (dir !== undefined) files.push(`${dir}${base}`);
  }
  return { name, files };
}
