/**
 * The header block of Python core metadata (METADATA, PKG-INFO): RFC 822 fields up to the first
 * blank line; the description after it is never read.
 */
export function readCoreMetadata(text: string): { name?: string; version?: string } {
  const out: { name?: string; version?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0 || /^\s/.test(line)) continue;
    const key = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "name") out.name ??= value;
    else if (key === "version") out.version ??= value;
    if (out.name !== undefined && out.version !== undefined) break;
  }
  return out;
}
