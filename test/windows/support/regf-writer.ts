import { baseBlockChecksum } from "../../../shared/analysis/windows/regf/base-block.js";

/** A key to write: values are raw bytes with their REG_* type. */
export interface KeySpec {
  name: string;
  values?: { name: string; type: number; data: Buffer }[];
  subkeys?: KeySpec[];
  /** write the subkey list as an `ri` index over two `lh` halves */
  indexed?: boolean;
}

export interface WrittenHive {
  buf: Buffer;
  /** hive offsets (relative to the first hbin) of each key's nk cell, by "A\\B" path ("" = root) */
  keyOffsets: Map<string, number>;
  /** hive offsets of each key's subkey list cell, by path */
  listOffsets: Map<string, number>;
  /** hive offsets of each value's vk cell, by "path:valueName" */
  valueOffsets: Map<string, number>;
}

const BIG_DATA_SEGMENT = 16344;
const FILETIME = 133_000_000_000_000_000n;

/**
 * A small regf writer for tests: one hbin sized to fit, an sk, lh subkey lists, inline / cell / db
 * value data. hivex cannot create an empty hive, so this makes the seed that `hivexregedit --merge`
 * grows; it also builds hostile hives (tests patch the returned offsets).
 */
export function writeHive(root: KeySpec): WrittenHive {
  const cells = new CellWriter();
  const out: WrittenHive = {
    buf: Buffer.alloc(0),
    keyOffsets: new Map(),
    listOffsets: new Map(),
    valueOffsets: new Map(),
  };
  const sk = cells.alloc(securityCell());
  cells.at(sk).writeUInt32LE(sk, 4);
  cells.at(sk).writeUInt32LE(sk, 8);
  const rootOffset = writeKey(cells, out, root, [], 0xffffffff, sk, true);
  const hbins = cells.finish();
  const header = Buffer.alloc(4096);
  header.write("regf", 0, "latin1");
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(1, 8);
  header.writeBigUInt64LE(FILETIME, 12);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(5, 24);
  header.writeUInt32LE(0, 28);
  header.writeUInt32LE(1, 32);
  header.writeUInt32LE(rootOffset, 36);
  header.writeUInt32LE(hbins.length, 40);
  header.writeUInt32LE(1, 44);
  header.write("portcullis-seed", 48, "utf16le");
  header.writeUInt32LE(baseBlockChecksum(header), 508);
  out.buf = Buffer.concat([header, hbins]);
  return out;
}

function writeKey(
  cells: CellWriter,
  out: WrittenHive,
  spec: KeySpec,
  path: string[],
  parent: number,
  sk: number,
  isRoot: boolean,
): number {
  const name = encodeName(spec.name);
  const nk = Buffer.alloc(76 + name.bytes.length);
  nk.write("nk", 0, "latin1");
  nk.writeUInt16LE((name.compressed ? 0x20 : 0) | (isRoot ? 0x0c : 0), 2);
  nk.writeBigUInt64LE(FILETIME, 4);
  nk.writeUInt32LE(parent, 16);
  nk.writeUInt32LE(0xffffffff, 28);
  nk.writeUInt32LE(0xffffffff, 32);
  nk.writeUInt32LE(0xffffffff, 40);
  nk.writeUInt32LE(sk, 44);
  nk.writeUInt32LE(0xffffffff, 48);
  nk.writeUInt16LE(name.bytes.length, 72);
  name.bytes.copy(nk, 76);
  const self = cells.alloc(nk);
  const key = path.join("\\");
  out.keyOffsets.set(key, self);
  const refcount = cells.at(sk).readUInt32LE(12);
  cells.at(sk).writeUInt32LE(refcount + 1, 12);

  const children = [...(spec.subkeys ?? [])].sort((a, b) =>
    a.name.toUpperCase() < b.name.toUpperCase() ? -1 : 1,
  );
  const childOffsets = children.map((c) => writeKey(cells, out, c, [...path, c.name], self, sk, false));
  if (childOffsets.length > 0) {
    const entries = childOffsets.map((o, i) => ({ offset: o, hash: lhHash(children[i]!.name) }));
    const half = Math.ceil(entries.length / 2);
    const list = spec.indexed
      ? cells.alloc(
          riCell([cells.alloc(lhCell(entries.slice(0, half))), cells.alloc(lhCell(entries.slice(half)))]),
        )
      : cells.alloc(lhCell(entries));
    out.listOffsets.set(key, list);
    cells.at(self).writeUInt32LE(childOffsets.length, 20);
    cells.at(self).writeUInt32LE(list, 28);
  }
  const values = spec.values ?? [];
  if (values.length > 0) {
    const vkOffsets = values.map((v) => {
      const vk = writeValue(cells, v);
      out.valueOffsets.set(`${key}:${v.name}`, vk);
      return vk;
    });
    const list = Buffer.alloc(vkOffsets.length * 4);
    vkOffsets.forEach((o, i) => {
      list.writeUInt32LE(o, i * 4);
    });
    cells.at(self).writeUInt32LE(values.length, 36);
    cells.at(self).writeUInt32LE(cells.alloc(list), 40);
  }
  return self;
}

function writeValue(cells: CellWriter, v: { name: string; type: number; data: Buffer }): number {
  const name = encodeName(v.name);
  const vk = Buffer.alloc(20 + name.bytes.length);
  vk.write("vk", 0, "latin1");
  vk.writeUInt16LE(name.bytes.length, 2);
  vk.writeUInt32LE(v.type, 12);
  vk.writeUInt16LE(name.compressed ? 1 : 0, 16);
  name.bytes.copy(vk, 20);
  if (v.data.length <= 4) {
    vk.writeUInt32LE((0x80000000 | v.data.length) >>> 0, 4);
    v.data.copy(vk, 8);
  } else {
    vk.writeUInt32LE(v.data.length, 4);
    vk.writeUInt32LE(v.data.length > BIG_DATA_SEGMENT ? writeBigData(cells, v.data) : cells.alloc(v.data), 8);
  }
  return cells.alloc(vk);
}

function writeBigData(cells: CellWriter, data: Buffer): number {
  const segments: number[] = [];
  for (let at = 0; at < data.length; at += BIG_DATA_SEGMENT) {
    segments.push(cells.alloc(data.subarray(at, at + BIG_DATA_SEGMENT)));
  }
  const list = Buffer.alloc(segments.length * 4);
  segments.forEach((o, i) => {
    list.writeUInt32LE(o, i * 4);
  });
  const db = Buffer.alloc(8);
  db.write("db", 0, "latin1");
  db.writeUInt16LE(segments.length, 2);
  db.writeUInt32LE(cells.alloc(list), 4);
  return cells.alloc(db);
}

function lhCell(entries: { offset: number; hash: number }[]): Buffer {
  const lh = Buffer.alloc(4 + entries.length * 8);
  lh.write("lh", 0, "latin1");
  lh.writeUInt16LE(entries.length, 2);
  entries.forEach((e, i) => {
    lh.writeUInt32LE(e.offset, 4 + i * 8);
    lh.writeUInt32LE(e.hash, 8 + i * 8);
  });
  return lh;
}

function riCell(lists: number[]): Buffer {
  const ri = Buffer.alloc(4 + lists.length * 4);
  ri.write("ri", 0, "latin1");
  ri.writeUInt16LE(lists.length, 2);
  lists.forEach((o, i) => {
    ri.writeUInt32LE(o, 4 + i * 4);
  });
  return ri;
}

function encodeName(name: string): { bytes: Buffer; compressed: boolean } {
  // Windows stores a name as Latin-1 when every character fits, else UTF-16LE
  const compressed = [...name].every((c) => c.charCodeAt(0) < 256);
  return { bytes: Buffer.from(name, compressed ? "latin1" : "utf16le"), compressed };
}

function lhHash(name: string): number {
  let h = 0;
  for (const c of name.toUpperCase()) h = (Math.imul(h, 37) + c.charCodeAt(0)) >>> 0;
  return h;
}

function securityCell(): Buffer {
  // a self-relative descriptor with an empty DACL: enough for hivex to copy onto new keys
  const descriptor = Buffer.from([
    1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0,
  ]);
  const sk = Buffer.alloc(20 + descriptor.length);
  sk.write("sk", 0, "latin1");
  sk.writeUInt32LE(descriptor.length, 16);
  descriptor.copy(sk, 20);
  return sk;
}

/** Lays cells out back to back after a 32-byte hbin header; offsets are hive offsets. */
class CellWriter {
  #buf = Buffer.alloc(1 << 16);
  #used = 32;

  alloc(payload: Buffer): number {
    const size = (payload.length + 4 + 7) & ~7;
    while (this.#used + size + 8 > this.#buf.length)
      this.#buf = Buffer.concat([this.#buf, Buffer.alloc(this.#buf.length)]);
    const offset = this.#used;
    this.#buf.writeInt32LE(-size, offset);
    payload.copy(this.#buf, offset + 4);
    this.#used += size;
    return offset;
  }

  /** The payload of an allocated cell, for patching. */
  at(offset: number): Buffer {
    return this.#buf.subarray(offset + 4);
  }

  finish(): Buffer {
    let size = Math.ceil(this.#used / 4096) * 4096;
    if (size - this.#used > 0 && size - this.#used < 8) size += 4096;
    const bin = Buffer.alloc(size);
    this.#buf.copy(bin, 0, 0, Math.min(this.#used, size));
    if (size > this.#used) bin.writeInt32LE(size - this.#used, this.#used);
    bin.write("hbin", 0, "latin1");
    bin.writeUInt32LE(0, 4);
    bin.writeUInt32LE(size, 8);
    bin.writeBigUInt64LE(FILETIME, 20);
    return bin;
  }
}
