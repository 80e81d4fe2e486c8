import type { AdvisoryEntry, CompactRange, EventKind } from "../vulndb/db-format.js";
import type { Versioning } from "../vulndb/versioning/versioning.js";

export interface AffectedResult {
  affected: boolean;
  /** the lowest fix above the installed version, when a range names one */
  fixedVersion?: string;
}

// events at the same version apply in this order, so `introduced X, fixed X` is an empty range
const TIE_ORDER: Record<EventKind, number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

type Compare = (a: string, b: string) => number;

/** A compare that treats an unparseable version as "cannot say" instead of throwing mid-scan. */
function safeCompare(scheme: Versioning): (a: string, b: string) => number | undefined {
  return (a, b) => {
    try {
      const c = scheme.compare(a, b);
      return Number.isFinite(c) ? c : undefined;
    } catch {
      return undefined;
    }
  };
}

function sortEvents(events: CompactRange["events"], compare: Compare): CompactRange["events"] {
  return [...events].sort(([ka, va], [kb, vb]) => {
    // introduced "0" is below every version
    const za = ka === "introduced" && va === "0";
    const zb = kb === "introduced" && vb === "0";
    if (za || zb) return za && zb ? 0 : za ? -1 : 1;
    return compare(va, vb) || TIE_ORDER[ka] - TIE_ORDER[kb];
  });
}

/**
 * OSV range semantics: walk the events in version order; `introduced` at or below the version opens
 * the range, `fixed` at or below closes it, `last_affected` below closes it; `limit` caps the range.
 */
function inRange(
  range: CompactRange,
  version: string,
  cmp: (a: string, b: string) => number | undefined,
): boolean {
  for (const [kind, at] of range.events) {
    if (kind !== "limit") continue;
    const c = cmp(version, at);
    if (c === undefined || c >= 0) return false;
  }
  const total: Compare = (a, b) => cmp(a, b) ?? 0;
  let affected = false;
  for (const [kind, at] of sortEvents(range.events, total)) {
    if (kind === "introduced") {
      if (at === "0") affected = true;
      else {
        const c = cmp(version, at);
        if (c === undefined) return false;
        if (c >= 0) affected = true;
      }
    } else if (kind === "fixed") {
      const c = cmp(version, at);
      if (c === undefined) return false;
      if (c >= 0) affected = false;
    } else if (kind === "last_affected") {
      const c = cmp(version, at);
      if (c === undefined) return false;
      if (c > 0) affected = false;
    }
  }
  return affected;
}

/** Is `version` affected by this advisory entry, under the ecosystem's version scheme? */
export function evaluateEntry(
  entry: AdvisoryEntry,
  version: string,
  scheme: Versioning | undefined,
): AffectedResult {
  const cmp = scheme ? safeCompare(scheme) : undefined;
  let affected = entry.versions?.includes(version) ?? false;
  if (!affected && cmp && entry.versions) affected = entry.versions.some((v) => cmp(version, v) === 0);
  if (cmp && !affected) affected = entry.ranges.some((r) => inRange(r, version, cmp));
  if (!affected) return { affected: false };
  if (!cmp) return { affected: true };
  let fixedVersion: string | undefined;
  for (const range of entry.ranges) {
    for (const [kind, at] of range.events) {
      if (kind !== "fixed" || (cmp(at, version) ?? -1) <= 0) continue;
      if (fixedVersion === undefined || (cmp(at, fixedVersion) ?? 0) < 0) fixedVersion = at;
    }
  }
  return fixedVersion === undefined ? { affected: true } : { affected: true, fixedVersion };
}
