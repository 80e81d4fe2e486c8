// pe-library's own typings pull in `lib="dom"`, which breaks Node's stream types elsewhere: the
// module is loaded by a specifier TypeScript does not resolve, typed by the little it is used for
interface NtExecutableSection {
  info: { name: string; virtualAddress: number; virtualSize: number; characteristics: number };
  data: ArrayBuffer | null;
}
interface NtExecutable {
  is32bit(): boolean;
  getAllSections(): readonly NtExecutableSection[];
  newHeader: { optionalHeaderDataDirectory: { get(i: number): { virtualAddress: number; size: number } } };
}
const PE_LIBRARY: string = "pe-library";
const { NtExecutable } = (await import(PE_LIBRARY)) as {
  NtExecutable: { from(bin: ArrayBufferView, options: { ignoreCert: boolean }): NtExecutable };
};

/** One static signal about a Windows executable: a stable rule id, its threat kind, and what was seen. */
export interface PeSignal {
  rule: string;
  category: "malware" | "injection";
  title: string;
  evidence: string[];
}

export type PeAnalysis = { signals: PeSignal[] } | { error: string };

/** The Windows loader refuses more sections than this; a bigger count is a hostile header. */
const MAX_SECTIONS = 96;
const MAX_IMPORTED_DLLS = 512;
const MAX_FUNCTIONS_PER_DLL = 8192;
const MAX_NAME = 256;

// imports that together write code into another process and start it there
const WRITE = ["WriteProcessMemory", "NtWriteVirtualMemory", "ZwWriteVirtualMemory"];
const ALLOCATE = ["VirtualAllocEx", "VirtualAlloc2", "NtAllocateVirtualMemory", "ZwAllocateVirtualMemory"];
const START = [
  "CreateRemoteThread",
  "CreateRemoteThreadEx",
  "NtCreateThreadEx",
  "ZwCreateThreadEx",
  "RtlCreateUserThread",
  "QueueUserAPC",
  "NtQueueApcThread",
];
const UNMAP = ["NtUnmapViewOfSection", "ZwUnmapViewOfSection"];
const SET_CONTEXT = ["SetThreadContext", "Wow64SetThreadContext", "NtSetContextThread"];
const HOOK = ["SetWindowsHookExA", "SetWindowsHookExW"];

// section names the common packers write (UPX, ASPack, MPRESS, Themida, PECompact …)
const PACKER_SECTIONS =
  /^(?:UPX\d|\.?UPX!?|\.aspack|\.adata|\.MPRESS\d|\.themida|\.vmp\d|\.petite|PEC2|\.packed|\.nsp\d)$/i;
// where an installer or a dropper puts an executable, not where software is installed
const UNUSUAL =
  /^(?:Files\/)?(?:Users\/Public\/|Windows\/Temp\/|ProgramData\/|Users\/[^/]+\/AppData\/Local\/Temp\/|\$Recycle\.Bin\/)/i;
const IMAGE_SCN_MEM_EXECUTE = 0x20000000;

/**
 * Static analysis of a PE file with pe-library: remote-process injection and hollowing imports,
 * packed or high-entropy code sections, executables in drop locations. The header is checked
 * before pe-library reads it, so a hostile section table costs a warning, not gigabytes.
 */
export function analyzePe(path: string, content: Buffer): PeAnalysis {
  // two letters "MZ", or an MS-DOS program: no PE header at all, so nothing to analyze or to warn about
  if (!hasPeSignature(content)) return { signals: [] };
  const refused = preflight(content);
  if (refused !== undefined) return { error: refused };
  let exe: NtExecutable;
  try {
    // pe-library refuses COFF symbol tables (mingw leaves one); the count is irrelevant to what we read
    const copy = Buffer.from(content);
    copy.writeUInt32LE(0, copy.readUInt32LE(0x3c) + 16);
    exe = NtExecutable.from(copy, { ignoreCert: true });
  } catch (err) {
    return { error: `not a readable PE file: ${(err as Error).message}` };
  }
  const sections = exe.getAllSections();
  const signals: PeSignal[] = [];
  let imports: Map<string, string[]>;
  try {
    imports = readImports(exe, sections);
  } catch (err) {
    return { error: `its import table cannot be read: ${(err as Error).message}` };
  }
  signals.push(...importSignals(imports));
  signals.push(...sectionSignals(sections));
  if (UNUSUAL.test(path)) {
    signals.push({
      rule: "pe/unusual-location",
      category: "malware",
      title: "a Windows executable in a drop location (Users\\Public, Temp, ProgramData)",
      evidence: [
        `an executable at /${path}, where installers and droppers write, not where software is installed`,
      ],
    });
  }
  return { signals };
}

/** An MZ file: a PE, or something that claims to be one. */
export const isPe = (content: Buffer): boolean =>
  content.length >= 2 && content[0] === 0x4d && content[1] === 0x5a;

function hasPeSignature(content: Buffer): boolean {
  if (content.length < 0x40) return false;
  const nt = content.readUInt32LE(0x3c);
  // a header offset past the end is a truncated PE, which preflight names
  return nt + 4 > content.length || content.readUInt32LE(nt) === 0x00004550;
}

/** The header fields pe-library trusts, checked against the file: why it is refused, or undefined. */
function preflight(content: Buffer): string | undefined {
  const nt = content.readUInt32LE(0x3c);
  if (nt + 24 > content.length) return "truncated: the PE header lies past the end of the file";
  const count = content.readUInt16LE(nt + 6);
  if (count > MAX_SECTIONS)
    return `bogus section table: ${count} sections (the loader allows ${MAX_SECTIONS})`;
  const table = nt + 24 + content.readUInt16LE(nt + 20);
  if (table + count * 40 > content.length)
    return "truncated: the section table lies past the end of the file";
  let total = 0;
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    const size = content.readUInt32LE(at + 16);
    const offset = content.readUInt32LE(at + 20);
    if (size === 0 || offset === 0) continue;
    if (offset + size > content.length) {
      const name = content
        .subarray(at, at + 8)
        .toString("latin1")
        .replace(/\0.*$/s, "");
      return `truncated or bogus section table: section ${JSON.stringify(name)} claims ${size} bytes at ${offset}, past the end of the ${content.length}-byte file`;
    }
    total += size;
  }
  // overlapping sections would make pe-library copy the file many times over
  if (total > 2 * content.length)
    return `bogus section table: sections claim ${total} bytes of a ${content.length}-byte file`;
  return undefined;
}

/** DLL (lower case) → imported function names, from the import directory. */
function readImports(exe: NtExecutable, sections: readonly NtExecutableSection[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const dir = exe.newHeader.optionalHeaderDataDirectory.get(1);
  if (dir.virtualAddress === 0 || dir.size === 0) return out;
  const wide = !exe.is32bit();
  const at = (rva: number) => resolveRva(sections, rva);
  for (let i = 0; i < MAX_IMPORTED_DLLS; i++) {
    const desc = at(dir.virtualAddress + i * 20);
    if (desc === undefined || desc.view.byteLength - desc.offset < 20) break;
    const lookup = desc.view.getUint32(desc.offset, true);
    const nameRva = desc.view.getUint32(desc.offset + 12, true);
    const iat = desc.view.getUint32(desc.offset + 16, true);
    if (lookup === 0 && nameRva === 0 && iat === 0) break;
    const dll = readName(at(nameRva))?.toLowerCase() ?? "?";
    const names = out.get(dll) ?? [];
    const thunkRva = lookup !== 0 ? lookup : iat;
    const step = wide ? 8 : 4;
    for (let j = 0; j < MAX_FUNCTIONS_PER_DLL; j++) {
      const thunk = at(thunkRva + j * step);
      if (thunk === undefined || thunk.view.byteLength - thunk.offset < step) break;
      const value = wide
        ? thunk.view.getBigUint64(thunk.offset, true)
        : BigInt(thunk.view.getUint32(thunk.offset, true));
      if (value === 0n) break;
      const byOrdinal = wide ? value >> 63n === 1n : value >> 31n === 1n;
      if (byOrdinal) continue;
      const name = readName(at(Number(value & 0x7fffffffn) + 2));
      if (name !== undefined) names.push(name);
    }
    out.set(dll, names);
  }
  return out;
}

function resolveRva(
  sections: readonly NtExecutableSection[],
  rva: number,
): { view: DataView; offset: number } | undefined {
  for (const { info, data } of sections) {
    if (data === null) continue;
    const start = info.virtualAddress;
    if (rva >= start && rva < start + data.byteLength)
      return { view: new DataView(data), offset: rva - start };
  }
  return undefined;
}

function readName(at: { view: DataView; offset: number } | undefined): string | undefined {
  if (at === undefined) return undefined;
  const bytes = new Uint8Array(at.view.buffer, at.offset, Math.min(MAX_NAME, at.view.byteLength - at.offset));
  const end = bytes.indexOf(0);
  if (end <= 0) return undefined;
  const name = Buffer.from(bytes.subarray(0, end)).toString("latin1");
  return /^[\x21-\x7e]+$/.test(name) ? name : undefined;
}

function importSignals(imports: Map<string, string[]>): PeSignal[] {
  const all = new Set([...imports.values()].flat());
  const has = (names: readonly string[]) => names.filter((n) => all.has(n));
  const listed = (names: string[]) =>
    names.map((n) => `${n} (${[...imports].find(([, fns]) => fns.includes(n))?.[0] ?? "?"})`).join(", ");
  const out: PeSignal[] = [];
  const [write, alloc, start] = [has(WRITE), has(ALLOCATE), has(START)];
  if (write.length > 0 && alloc.length > 0 && start.length > 0) {
    out.push({
      rule: "pe/process-injection-imports",
      category: "injection",
      title:
        "a Windows executable that imports remote-process injection (allocate, write and start code in another process)",
      evidence: [`imports ${listed([...alloc, ...write, ...start])}`],
    });
  }
  const [unmap, context] = [has(UNMAP), has(SET_CONTEXT)];
  if (unmap.length > 0 && write.length > 0 && context.length > 0) {
    out.push({
      rule: "pe/process-hollowing-imports",
      category: "injection",
      title: "a Windows executable that imports process hollowing (unmap, write, redirect a thread)",
      evidence: [`imports ${listed([...unmap, ...write, ...context])}`],
    });
  }
  const hook = has(HOOK);
  if (hook.length > 0 && write.length > 0) {
    out.push({
      rule: "pe/hook-injection-imports",
      category: "injection",
      title: "a Windows executable that imports a global hook and writes into other processes",
      evidence: [`imports ${listed([...hook, ...write])}`],
    });
  }
  return out;
}

function sectionSignals(sections: readonly NtExecutableSection[]): PeSignal[] {
  const out: PeSignal[] = [];
  const packed = sections.filter((s) => PACKER_SECTIONS.test(s.info.name));
  if (packed.length > 0) {
    out.push({
      rule: "pe/packed",
      category: "malware",
      title: "a packed Windows executable (its code is unpacked only at run time)",
      evidence: [`packer section names: ${packed.map((s) => s.info.name).join(", ")}`],
    });
  }
  for (const { info, data } of sections) {
    if (data === null || data.byteLength < 4096 || (info.characteristics & IMAGE_SCN_MEM_EXECUTE) === 0)
      continue;
    const h = entropy(new Uint8Array(data));
    // compiled code sits near 6 bits per byte; compressed or encrypted bytes near 8
    if (h < 7.2) continue;
    out.push({
      rule: "pe/high-entropy-code",
      category: "malware",
      title: "a Windows executable whose code section is compressed or encrypted",
      evidence: [
        `executable section ${info.name || "(unnamed)"}: ${h.toFixed(2)} bits of entropy per byte over ${data.byteLength} bytes`,
      ],
    });
  }
  return out;
}

function entropy(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]!++;
  let h = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / bytes.length;
    h -= p * Math.log2(p);
  }
  return h;
}
