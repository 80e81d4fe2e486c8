/** A value line of a .reg file: a plain string (hivexregedit stores it UTF-16LE), a dword, or hex(type) bytes. */
export type RegValue =
  | { name: string; string: string }
  | { name: string; dword: number }
  | { name: string; type: number; bytes: Buffer };

export interface RegKey {
  path: string[];
  values?: RegValue[];
}

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/**
 * A regedit-format file for `hivexregedit --merge`. hivexregedit refuses a key whose parent does not
 * exist yet, so every ancestor is written first.
 */
export function regFile(keys: RegKey[]): string {
  const lines = ["Windows Registry Editor Version 5.00", ""];
  const written = new Set<string>();
  for (const key of keys) {
    for (let depth = 1; depth <= key.path.length; depth++) {
      const path = key.path.slice(0, depth).join("\\");
      if (written.has(path) && depth < key.path.length) continue;
      written.add(path);
      lines.push(`[\\${path}]`);
      if (depth === key.path.length) lines.push(...(key.values ?? []).map(valueLine));
      lines.push("");
    }
  }
  return lines.join("\r\n");
}

function valueLine(v: RegValue): string {
  const name = v.name === "" ? "@" : quote(v.name);
  if ("string" in v) return `${name}=${quote(v.string)}`;
  if ("dword" in v) return `${name}=dword:${v.dword.toString(16).padStart(8, "0")}`;
  return `${name}=hex(${v.type.toString(16)}):${[...v.bytes].map((b) => b.toString(16).padStart(2, "0")).join(",")}`;
}
