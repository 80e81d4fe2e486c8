import type { ScanWarning } from "../model/inventory.js";

/** How many warnings of one code one layer may list; the rest are only counted. */
export const MAX_WARNINGS_PER_CODE = 100;

/** The code of the one summary warning that stands for the warnings a cap left out. */
export const WARNINGS_CAPPED = "warnings-capped";

/**
 * Collects warnings, keeping the first few per layer and code and counting the rest, so a hostile
 * layer with a million bad entries costs a hundred warnings and one summary, not a million objects.
 */
export class WarningCap {
  private readonly kept: ScanWarning[] = [];
  private readonly seen = new Map<string, { code: string; layer?: string; count: number }>();

  constructor(private readonly perCode = MAX_WARNINGS_PER_CODE) {}

  add(warning: ScanWarning): void {
    const key = `${warning.layer ?? ""}\u0000${warning.code}`;
    const entry = this.seen.get(key) ?? { code: warning.code, layer: warning.layer, count: 0 };
    this.seen.set(key, entry);
    if (++entry.count <= this.perCode) this.kept.push(warning);
  }

  /** Iterates instead of spreading: `push(...list)` overflows the stack on a long list. */
  addAll(warnings: Iterable<ScanWarning>): void {
    for (const w of warnings) this.add(w);
  }

  /** The kept warnings in arrival order, then one summary per layer and code that overflowed. */
  list(): ScanWarning[] {
    const out = [...this.kept];
    for (const { code, layer, count } of this.seen.values()) {
      if (count <= this.perCode) continue;
      out.push({
        code: WARNINGS_CAPPED,
        message: `${code}: the first ${this.perCode} are listed, and ${count - this.perCode} more`,
        ...(layer === undefined ? {} : { layer }),
      });
    }
    return out;
  }
}
