import type { OsInfo } from "../../model/inventory.js";

/**
 * Parses os-release(5): `KEY=value` lines, values optionally quoted with shell-style escapes.
 * Unknown or malformed lines are ignored, as systemd does.
 */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    fields[match[1]!] = unquote(match[2]!);
  }
  return fields;
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return q === '"' ? inner.replace(/\\([$"\\`])/g, "$1") : inner;
  }
  return value;
}

/** The OS an os-release file describes, or undefined when it names none. */
export function osFromOsRelease(text: string): OsInfo | undefined {
  const f = parseOsRelease(text);
  const family = f.ID?.toLowerCase();
  if (!family) return undefined;
  return {
    family,
    version: f.VERSION_ID ?? "",
    ...(f.PRETTY_NAME ? { name: f.PRETTY_NAME } : f.NAME ? { name: f.NAME } : {}),
    ...(f.VERSION_CODENAME ? { codename: f.VERSION_CODENAME } : {}),
  };
}
