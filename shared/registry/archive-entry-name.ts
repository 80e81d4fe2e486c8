import path from "node:path";
import { ScanError } from "../model/errors.js";

/**
 * Normalises a name inside an archive or layout ("./blobs//sha256/x" → "blobs/sha256/x"). Names are
 * names, never places: absolute paths, `..` and NUL are refused, so nothing can point outside.
 */
export function archiveEntryName(name: string, where: string): string {
  const unsafe = (why: string) =>
    new ScanError("unsafe-path", `${where}: entry name "${name.slice(0, 200)}" ${why}`);
  if (name.includes("\0")) throw unsafe("contains NUL");
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name) || name.includes("\\"))
    throw unsafe("is absolute or not a plain name");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe("contains '..'");
  if (parts.length === 0) throw unsafe("is empty");
  return parts.join("/");
}

/** Like archiveEntryName, but undefined instead of an error (for entries nobody asked for yet). */
export function safeArchiveEntryName(name: string): string | undefined {
  try {
    return archiveEntryName(name, "");
  } catch {
    return undefined;
  }
}

/** Resolves a symlink target inside an archive; undefined when it would leave the archive. */
export function resolveArchiveLink(linkName: string, target: string): string | undefined {
  if (target.startsWith("/")) return undefined;
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(linkName), target));
  if (joined === ".." || joined.startsWith("../")) return undefined;
  return safeArchiveEntryName(joined);
}
