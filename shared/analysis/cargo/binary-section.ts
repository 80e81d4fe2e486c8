import { ChunkedBytes } from "../chunked-bytes.js";

/**
 * One named section of an ELF (32/64-bit, either byte order) or PE binary, found through the
 * section header table; every offset is checked against the file, so a damaged binary says so. The
 * binary may be whole or the layer walk's chunks: only the headers, the tables and the section are read.
 */
export function readBinarySection(content: Buffer | ChunkedBytes, name: string): Buffer | undefined | string {
  const binary = ChunkedBytes.of(content);
  const head = binary.slice(0, Math.min(binary.length, 64));
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return elfSection(binary, head, name);
  if (head.length >= 2 && head.toString("latin1", 0, 2) === "MZ") return peSection(binary, head, name);
  return undefined;
}

const inFile = (b: ChunkedBytes, at: number, size: number) =>
  Number.isSafeInteger(at) && Number.isSafeInteger(size) && at >= 0 && size >= 0 && at + size <= b.length;

/** Readers of one byte order and word size over a buffer. */
function fields(b: Buffer, le: boolean, is64: boolean) {
  const u16 = (at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const addr = (at: number) => (is64 ? Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(at));
  return { u16, u32, addr };
}

function elfSection(b: ChunkedBytes, head: Buffer, name: string): Buffer | undefined | string {
  if (b.length < 52) return "ELF header is truncated";
  const is64 = head[4] === 2;
  const le = head[5] === 1;
  if (is64 && b.length < 64) return "ELF header is truncated";
  const { u16, addr } = fields(head, le, is64);
  const shoff = addr(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shnum === 0) return undefined;
  if (shentsize < (is64 ? 64 : 40) || !inFile(b, shoff, shnum * shentsize))
    return "ELF section header table lies outside the file";
  const table = fields(b.slice(shoff, shoff + shnum * shentsize), le, is64);
  const header = (i: number) => {
    const at = i * shentsize;
    return {
      offset: table.addr(at + (is64 ? 0x18 : 0x10)),
      size: table.addr(at + (is64 ? 0x20 : 0x14)),
    };
  };
  if (shstrndx >= shnum) return "ELF section name table index is out of range";
  const names = header(shstrndx);
  if (!inFile(b, names.offset, names.size)) return "ELF section name table lies outside the file";
  const nameTable = b.slice(names.offset, names.offset + names.size);
  const wanted = Buffer.from(`${name}\0`, "latin1");
  for (let i = 0; i < shnum; i++) {
    // compared in place: asked of every binary in the executable places, most sections are not it
    const nameAt = table.u32(i * shentsize);
    if (
      nameAt + wanted.length > nameTable.length ||
      wanted.compare(nameTable, nameAt, nameAt + wanted.length) !== 0
    )
      continue;
    const h = header(i);
    if (!inFile(b, h.offset, h.size)) return `ELF section ${name} lies outside the file`;
    return b.slice(h.offset, h.offset + h.size);
  }
  return undefined;
}

function peSection(b: ChunkedBytes, head: Buffer, name: string): Buffer | undefined | string {
  if (b.length < 0x40) return undefined;
  const pe = head.readUInt32LE(0x3c);
  if (!inFile(b, pe, 24)) return undefined;
  const coff = b.slice(pe, pe + 24);
  if (coff.toString("latin1", 0, 4) !== "PE\0\0") return undefined;
  const count = coff.readUInt16LE(6);
  const optionalSize = coff.readUInt16LE(20);
  const start = pe + 24 + optionalSize;
  if (!inFile(b, start, count * 40)) return "PE section table lies outside the file";
  const table = b.slice(start, start + count * 40);
  for (let i = 0; i < count; i++) {
    const at = i * 40;
    // an 8-byte name, NUL-padded; longer names point into the COFF string table, which .dep-v0 never needs
    if (table.toString("latin1", at, at + 8).replace(/\0+$/, "") !== name) continue;
    const virtualSize = table.readUInt32LE(at + 8);
    const rawSize = table.readUInt32LE(at + 16);
    const offset = table.readUInt32LE(at + 20);
    // the raw data is padded to the file alignment; the virtual size is the section's own length
    const size = virtualSize > 0 ? Math.min(virtualSize, rawSize) : rawSize;
    if (!inFile(b, offset, size)) return `PE section ${name} lies outside the file`;
    return b.slice(offset, offset + size);
  }
  return undefined;
}
