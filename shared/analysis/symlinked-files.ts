import type { ScanWarning } from "../model/inventory.js";
import type { Analyzer } from "./analyzer.js";
import type { FileResult, LinkEntry } from "./layer-report.js";
import { resolveLinkTarget } from "./tar-path.js";

/** What the merged filesystem holds at a path, as far as following links needs it. */
export interface LinkedPath {
  layer: string;
  results: FileResult[];
  link?: LinkEntry;
}

/** Linux's limit on symlinks followed while resolving one path. */
const MAX_HOPS = 40;

/**
 * Symlinks where analyzers expect a file (`var/lib/dpkg/status`, `lib/apk/db/installed`, …): each is
 * resolved inside the image root as a container would; when it lands on a file the analyzers read,
 * that file's results count at the link's path too. Otherwise the analyzers never saw the content,
 * and a warning says so instead of an empty inventory in silence.
 */
export function followSymlinkedFiles(
  state: Map<string, LinkedPath>,
  analyzers: readonly Analyzer[],
): ScanWarning[] {
  const warnings: ScanWarning[] = [];
  for (const [path, entry] of state) {
    if (entry.link?.type !== "symlink") continue;
    const readers = analyzers.filter((a) => !a.readsEveryFile && a.required(path));
    if (readers.length === 0) continue;
    // each reader counts on its own: one having read the target says nothing of another
    const target = resolveChain(state, path);
    const found = target === undefined ? undefined : state.get(target);
    const unread = readers.filter((a) => !entry.results.some((r) => r.analyzer === a.name));
    const read = found?.results.filter((r) => unread.some((a) => a.name === r.analyzer)) ?? [];
    entry.results = [...entry.results, ...read.map((r) => ({ ...r, path }))];
    const missing = unread.filter((a) => !read.some((r) => r.analyzer === a.name));
    if (missing.length === 0) continue;
    warnings.push({
      code: "package-db-symlink",
      message: `${path} is a symlink to ${entry.link.target}${target === undefined ? " (outside the image root)" : ""}, and the file it points to was not read by ${missing.map((a) => a.name).join(", ")}: what it lists is missing from the inventory`,
      layer: entry.layer,
      path,
    });
  }
  return warnings;
}

/** The path a symlink chain ends at, or undefined when it escapes the root or loops. */
function resolveChain(state: Map<string, LinkedPath>, start: string): string | undefined {
  let path = start;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const link = state.get(path)?.link;
    if (link?.type !== "symlink") return path;
    const next = resolveLinkTarget(path, link.target, "symlink");
    if (next === undefined) return undefined;
    path = next;
  }
  return undefined;
}
