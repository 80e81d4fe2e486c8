import { compareStrings } from "./digits.js";
import { compareLists, compareNumericOrText, compareZeroPadded, readDottedNumbers } from "./lists.js";
import type { Versioning } from "./versioning.js";

// SemVer 2.0 precedence (npm, Go modules, crates.io, Hex). Hand-written rather than the `semver`
// package: advisories carry numbers past 2^53 and cores with 1, 2 or 4+ parts, which `semver`
// rejects, and Go's `v` prefix and `+incompatible` must compare like the plain version.

/** Where SemVer dialects differ (NuGet is SemVer with case-insensitive labels, no `v`, four parts). */
export interface SemVerDialect {
  /** a leading `v`/`V` is skipped (Go) */
  vPrefix: boolean;
  /** pre-release labels compare ignoring case (NuGet's OrdinalIgnoreCase) */
  foldLabelCase: boolean;
  /** most numbers in the core a valid version has; undefined = any */
  maxCoreParts?: number;
}

interface SemVer {
  core: string[];
  prerelease: string[] | undefined;
}

function parse(version: string, dialect: SemVerDialect): SemVer {
  const first = version.charCodeAt(0);
  const start = dialect.vPrefix && (first === 118 || first === 86) ? 1 : 0; // v / V
  const { numbers: core, end } = readDottedNumbers(version, start);
  // Build metadata never takes part in precedence.
  const plus = version.indexOf("+", end);
  let tail = plus < 0 ? version.slice(end) : version.slice(end, plus);
  if (tail.startsWith("-") || tail.startsWith(".")) tail = tail.slice(1);
  return { core, prerelease: tail === "" ? undefined : tail.split(".") };
}

const upperCaseOrder = (a: string, b: string) => compareStrings(a.toUpperCase(), b.toUpperCase());

/** The precedence of a SemVer dialect. */
export function semverComparator(dialect: SemVerDialect): (a: string, b: string) => number {
  const compareLabel = (x: string, y: string) =>
    compareNumericOrText(x, y, dialect.foldLabelCase ? upperCaseOrder : compareStrings);
  return (a, b) => {
    if (a === b) return 0;
    const va = parse(a, dialect);
    const vb = parse(b, dialect);
    const core = compareZeroPadded(va.core, vb.core);
    if (core !== 0) return core;
    const pa = va.prerelease;
    const pb = vb.prerelease;
    // a release is above its pre-releases
    if (pa === undefined || pb === undefined) return pa === pb ? 0 : pa === undefined ? 1 : -1;
    return compareLists(pa, pb, compareLabel);
  };
}

/** Lenient on the core's length unless the dialect bounds it (OSV data has `1.2` and `1.2.3.4`), strict on everything else. */
export function semverPattern(dialect: SemVerDialect): RegExp {
  const more = dialect.maxCoreParts === undefined ? "*" : `{0,${dialect.maxCoreParts - 1}}`;
  return new RegExp(
    `^${dialect.vPrefix ? "v?" : ""}\\d+(?:\\.\\d+)${more}` +
      "(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$",
  );
}

const SEMVER: SemVerDialect = { vPrefix: true, foldLabelCase: false };
export const compareSemVer = semverComparator(SEMVER);
const VALID = semverPattern(SEMVER);

export const semver: Versioning = {
  id: "semver",
  ecosystems: ["npm", "Go", "crates.io", "Hex", "Bitnami", "SwiftURL"],
  isValid: (version) => VALID.test(version),
  compare: compareSemVer,
};
