import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";

// SemVer 2.0 precedence (npm, Go modules, crates.io, Hex). Hand-written rather than the `semver`
// package: advisories carry numbers past 2^53 and cores with 1, 2 or 4+ parts, which `semver`
// rejects, and Go's `v` prefix and `+incompatible` must compare like the plain version.

interface SemVer {
  core: string[];
  prerelease: string[] | undefined;
}

function parse(version: string): SemVer {
  let i = version.charCodeAt(0) === 118 || version.charCodeAt(0) === 86 ? 1 : 0; // v / V
  const core: string[] = [];
  for (;;) {
    const end = scanWhile(version, i, isAsciiDigit);
    if (end === i) break;
    core.push(version.slice(i, end));
    i = end;
    if (version.charCodeAt(i) !== 46 || !isAsciiDigit(version.charCodeAt(i + 1))) break;
    i++;
  }
  // Build metadata never takes part in precedence.
  const plus = version.indexOf("+", i);
  let tail = plus < 0 ? version.slice(i) : version.slice(i, plus);
  if (tail.startsWith("-") || tail.startsWith(".")) tail = tail.slice(1);
  return { core, prerelease: tail === "" ? undefined : tail.split(".") };
}

const NUMERIC = /^\d+$/;

function compareIdentifiers(a: string, b: string): number {
  const an = NUMERIC.test(a);
  const bn = NUMERIC.test(b);
  if (an && bn) return compareDigitRuns(a, b);
  if (an !== bn) return an ? -1 : 1;
  return compareStrings(a, b);
}

export function compareSemVer(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  const n = Math.max(va.core.length, vb.core.length);
  for (let k = 0; k < n; k++) {
    const d = compareDigitRuns(va.core[k] ?? "0", vb.core[k] ?? "0");
    if (d !== 0) return d;
  }
  const pa = va.prerelease;
  const pb = vb.prerelease;
  if (pa === undefined || pb === undefined) {
    if (pa === pb) return 0;
    return pa === undefined ? 1 : -1;
  }
  const m = Math.min(pa.length, pb.length);
  for (let k = 0; k < m; k++) {
    const d = compareIdentifiers(pa[k]!, pb[k]!);
    if (d !== 0) return d;
  }
  return Math.sign(pa.length - pb.length);
}

// Lenient on the core's length (OSV data has `1.2` and `1.2.3.4`), strict on everything else.
const VALID =
  /^v?\d+(?:\.\d+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export const semver: Versioning = {
  id: "semver",
  ecosystems: ["npm", "Go", "crates.io", "Hex", "Bitnami", "SwiftURL"],
  isValid: (version) => VALID.test(version),
  compare: compareSemVer,
};
