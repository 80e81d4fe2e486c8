/**
 * One named section of an ELF (32/64-bit, either byte order) or PE binary, found through the
 * section header table; every offset is checked against the file, so a damaged binary says so.
 */
export function readBinarySection(binary: Buffer, name: string): Buffer | undefined | string {
  if (binary.length >= 4 && binary.readUInt32BE(0) === 0x7f454c46) return elfSection(binary, name);
  if (binary.length >= 2 && binary.toString("latin1", 0, 2) === "MZ") return peSection(binary, name);
  return undefined;
}

const inFile = (b: Buffer, at: number, size: number) =>
  Number.isSafeInteger(at) && Number.isSafeInteger(size) && at >= 0 && size >= 0 && at + size <= b.length;

function elfSection(b: Buffer, name: string): Buffer | undefined | string {
  if (b.length < 52) return "ELF header is truncated";
  const is64 = b[4] === 2;
  const le = b[5] === 1;
  const u16 = (at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const addr = (at: number) => (is64 ? Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(at));
  if (is64 && b.length < 64) return "ELF header is truncated";
  const shoff = addr(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shnum === 0) return undefined;
  if (shentsize < (is64 ? 64 : 40) || !inFile(b, shoff, shnum * shentsize))
    return "ELF section header table lies outside the file";
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: u32(at),
      offset: addr(at + (is64 ? 0x18 : 0x10)),
      size: addr(at + (is64 ? 0x20 : 0x14)),
    };
  };
  if (shstrndx >= shnum) return "ELF section name table index is out of range";
  const names = header(shstrndx);
  if (!inFile(b, names.offset, names.size)) return "ELF section name table lies outside the file";
  const wanted = Buffer.from(`${name}\0`, "latin1");
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const at = names.offset + h.name;
    if (at + wanted.length > names.offset + names.size || !b.subarray(at, at + wanted.length).equals(wanted))
      continue;
    if (!inFile(b, h.offset, h.size)) return `ELF section ${name} lies outside the file`;
    return b.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}

function peSection(b: Buffer, name: string): Buffer | undefined | string {
  if (b.length < 0x40) return undefined;
  const pe = b.readUInt32LE(0x3c);
  if (!inFile(b, pe, 24) || b.toString("latin1", pe, pe + 4) !== "PE\0\0") return undefined;
  const count = b.readUInt16LE(pe + 6);
  const optionalSize = b.readUInt16LE(pe + 20);
  const table = pe + 24 + optionalSize;
  if (!inFile(b, table, count * 40)) return "PE section table lies outside the file";
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    // an 8-byte name, NUL-padded; longer names point into the COFF string table, which .dep-v0 never needs
    if (b.toString("latin1", at, at + 8).replace(/\0+$/, "") !== name) continue;
    const virtualSize = b.readUInt32LE(at + 8);
    const rawSize = b.readUInt32LE(at + 16);
    const offset = b.readUInt32LE(at + 20);
    // the raw data is padded to the file alignment; the virtual size is the section's own length
    const size = virtualSize > 0 ? Math.min(virtualSize, rawSize) : rawSize;
    if (!inFile(b, offset, size)) return `PE section ${name} lies outside the file`;
    return b.subarray(offset, offset + size);
  }
  return undefined;
}
