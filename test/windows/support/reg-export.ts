/** One key of a `hivexregedit --export` file: values by name, as type + raw bytes. */
export type ExportedKeys = Map<string, Map<string, { type: number; hex: string }>>;

/**
 * Parse `hivexregedit --export` output (bytes). Names are written raw: Latin-1 ("compressed")
 * names as Latin-1 bytes, UTF-16 names as UTF-8, so each name is decoded as UTF-8 when it is valid
 * UTF-8 and as Latin-1 otherwise. Keys are "\\"-joined paths ("" for the root).
 */
export function parseRegExport(bytes: Buffer): ExportedKeys {
  const keys: ExportedKeys = new Map();
  let current: Map<string, { type: number; hex: string }> | undefined;
  for (const line of splitLines(bytes)) {
    if (line.length === 0) continue;
    if (line[0] === 0x5b && line[line.length - 1] === 0x5d) {
      const path = splitBytes(line.subarray(2, line.length - 1), 0x5c)
        .map(decodeName)
        .join("\\");
      current = new Map();
      keys.set(path, current);
      continue;
    }
    if (current === undefined) continue;
    const { name, rest } = readName(line);
    current.set(name, parseData(rest));
  }
  return keys;
}

function readName(line: Buffer): { name: string; rest: string } {
  if (line[0] === 0x40) return { name: "", rest: line.subarray(2).toString("latin1") };
  let i = 1;
  const out: number[] = [];
  while (i < line.length && line[i] !== 0x22) {
    if (line[i] === 0x5c) i++;
    out.push(line[i]!);
    i++;
  }
  return { name: decodeName(Buffer.from(out)), rest: line.subarray(i + 2).toString("latin1") };
}

function parseData(text: string): { type: number; hex: string } {
  const dword = /^dword:([0-9a-f]{8})$/.exec(text);
  if (dword) return { type: 4, hex: Buffer.from(dword[1]!, "hex").reverse().toString("hex") };
  const hex = /^hex(?:\(([0-9a-f]+)\))?:(.*)$/.exec(text);
  if (!hex) throw new Error(`unparsed .reg data: ${text}`);
  return { type: hex[1] === undefined ? 3 : Number.parseInt(hex[1], 16), hex: hex[2]!.replace(/,/g, "") };
}

function decodeName(raw: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return raw.toString("latin1");
  }
}

function splitLines(bytes: Buffer): Buffer[] {
  return splitBytes(bytes, 0x0a).map((l) => (l[l.length - 1] === 0x0d ? l.subarray(0, l.length - 1) : l));
}

function splitBytes(bytes: Buffer, sep: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === sep) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(bytes.subarray(start));
  return out;
}
