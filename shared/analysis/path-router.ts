import type { Analyzer } from "./analyzer.js";

/** A path's name ending as `Analyzer.extensions` lists it: after the base name's last dot, lower-cased; "" without one. */
export function nameExtension(path: string): string {
  const dot = path.lastIndexOf(".");
  if (dot <= path.lastIndexOf("/")) return "";
  return path.slice(dot + 1).toLowerCase();
}

const NONE: readonly Analyzer[] = Object.freeze([]);

/**
 * The analyzers that want a path, asked only where its name ending lets them (`Analyzer.extensions`):
 * most of a layer's files (sources, docs) cost one map lookup and the few analyzers that name no
 * endings, not a `required` call of every reader.
 */
export class PathRouter {
  private readonly byEnding = new Map<string, readonly Analyzer[]>();
  private readonly unrouted: readonly Analyzer[];

  constructor(analyzers: readonly Analyzer[]) {
    this.unrouted = analyzers.filter((a) => a.extensions === undefined);
    for (const ending of new Set(analyzers.flatMap((a) => a.extensions ?? [])))
      this.byEnding.set(
        ending,
        analyzers.filter((a) => a.extensions === undefined || a.extensions.includes(ending)),
      );
  }

  /** The analyzers whose `required(path)` is true, in the list's order. */
  wanting(path: string): readonly Analyzer[] {
    let wanted: Analyzer[] | undefined;
    for (const analyzer of this.candidates(path)) {
      if (!analyzer.required(path)) continue;
      if (wanted === undefined) wanted = [];
      wanted.push(analyzer);
    }
    return wanted ?? NONE;
  }

  /** Whether any analyzer's `required(path)` is true. */
  wantedByAny(path: string): boolean {
    for (const analyzer of this.candidates(path)) if (analyzer.required(path)) return true;
    return false;
  }

  private candidates(path: string): readonly Analyzer[] {
    return this.byEnding.get(nameExtension(path)) ?? this.unrouted;
  }
}
