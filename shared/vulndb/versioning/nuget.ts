import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";

// NuGet.Versioning: up to four numeric parts (missing ones are 0, so 1.0 = 1.0.0.0), SemVer 2.0
// pre-release labels compared case-insensitively, build metadata ignored.

interface NuGetVersion {
  parts: string[];
  labels: string[] | undefined;
}

function parse(version: string): NuGetVersion {
  const s = version.trim();
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    const end = scanWhile(s, i, isAsciiDigit);
    if (end === i) break;
    parts.push(s.slice(i, end));
    i = end;
    if (s.charCodeAt(i) !== 46 || !isAsciiDigit(s.charCodeAt(i + 1))) break;
    i++;
  }
  const plus = s.indexOf("+", i);
  let tail = plus < 0 ? s.slice(i) : s.slice(i, plus);
  if (tail.startsWith("-") || tail.startsWith(".")) tail = tail.slice(1);
  return { parts, labels: tail === "" ? undefined : tail.split(".") };
}

const NUMERIC = /^\d+$/;

function compareLabels(a: string, b: string): number {
  const an = NUMERIC.test(a);
  const bn = NUMERIC.test(b);
  if (an && bn) return compareDigitRuns(a, b);
  if (an !== bn) return an ? -1 : 1;
  // StringComparer.OrdinalIgnoreCase: compare the upper-cased code units.
  return compareStrings(a.toUpperCase(), b.toUpperCase());
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  const n = Math.max(va.parts.length, vb.parts.length);
  for (let k = 0; k < n; k++) {
    const d = compareDigitRuns(va.parts[k] ?? "0", vb.parts[k] ?? "0");
    if (d !== 0) return d;
  }
  const la = va.labels;
  const lb = vb.labels;
  if (la === undefined || lb === undefined) {
    if (la === lb) return 0;
    return la === undefined ? 1 : -1;
  }
  const m = Math.min(la.length, lb.length);
  for (let k = 0; k < m; k++) {
    const d = compareLabels(la[k]!, lb[k]!);
    if (d !== 0) return d;
  }
  return Math.sign(la.length - lb.length);
}

const VALID =
  /^\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export const nuget: Versioning = {
  id: "nuget",
  ecosystems: ["NuGet"],
  isValid: (version) => VALID.test(version.trim()),
  compare,
};
