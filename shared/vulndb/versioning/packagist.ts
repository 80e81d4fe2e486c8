import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";

// Packagist (Composer): PHP's `version_compare` after trimming leading `v`/`V` characters, the way
// OSV's Packagist tooling orders versions. A faithful port of php-src `ext/standard/versioning.c`:
// canonicalize (`-`, `_`, `+` and other symbols become `.`, a `.` goes between digits and letters),
// then compare `.`-separated pieces: numbers numerically (C `long`, so saturating at 2^63-1), words
// by the special form they start with (dev < alpha = a < beta = b < RC = rc < # < pl = p, anything
// else below dev), a number against a word as if the number were `#`.

/** Where strtol saturates on 64-bit PHP builds. */
const LONG_MAX = "9223372036854775807";

const isDot = (c: number) => c === 46;
/** PHP's `isdig`/`isndig`: a `.` is neither a digit nor a non-digit. */
const isDig = (c: number) => isAsciiDigit(c);
const isNdig = (c: number) => !isAsciiDigit(c) && !isDot(c);
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isSpecialVer = (c: number) => c === 45 || c === 95 || c === 43; // - _ +

/** php_canonicalize_version: the first character is copied as is, the rest rewritten. */
function canonicalize(version: string): string {
  if (version === "") return "";
  // Copied characters are sliced out in runs: a 1 MB version must not become a million pushes.
  const out: string[] = [];
  let from = 0;
  let last = version.charCodeAt(0);
  let prev = last;
  /** Ends the current run before `i` and writes one `.` unless the output already ends in one. */
  const dot = (i: number) => {
    out.push(version.slice(from, i));
    if (last !== 46) out.push(".");
    last = 46;
  };
  for (let i = 1; i < version.length; i++) {
    const c = version.charCodeAt(i);
    const boundary = (isNdig(prev) && isDig(c)) || (isDig(prev) && isNdig(c));
    if (c === 46 && last !== 46)
      last = c; // a lone `.` is kept as it is
    else if (isSpecialVer(c) || (!boundary && !isAlnum(c))) {
      dot(i); // the character itself is dropped
      from = i + 1;
    } else if (boundary) {
      dot(i);
      from = i;
      last = c;
    } else last = c;
    prev = c;
  }
  out.push(version.slice(from));
  return out.join("");
}

/** php_version_compare leaves a string that starts with `#` (its own "#N#" stand-in) as it is. */
const canonicalForm = (v: string) => (v[0] === "#" ? v : canonicalize(v));

/** compare_special_version_forms' rank of a word: matched by prefix, case-sensitive. */
function specialForm(word: string): number {
  if (word.startsWith("dev")) return 0;
  if (word.startsWith("a")) return 1; // "alpha" and "a"
  if (word.startsWith("b")) return 2; // "beta" and "b"
  if (word.startsWith("RC") || word.startsWith("rc")) return 3;
  if (word.startsWith("#")) return 4;
  if (word.startsWith("p")) return 5; // "pl" and "p"
  return -1;
}

/** strtol of the digits a piece starts with, clamped to LONG_MAX, as a digit string. */
function strtol(piece: string): string {
  let run = piece.slice(0, scanWhile(piece, 0, isAsciiDigit));
  const first = scanWhile(run, 0, (c) => c === 48);
  run = run.slice(first);
  return compareDigitRuns(run, LONG_MAX) > 0 ? LONG_MAX : run;
}

function comparePieces(p1: string, p2: string): number {
  const d1 = isAsciiDigit(p1.charCodeAt(0));
  const d2 = isAsciiDigit(p2.charCodeAt(0));
  if (d1 && d2) return compareDigitRuns(strtol(p1), strtol(p2));
  const f1 = d1 ? 4 : specialForm(p1); // a number counts as "#N#"
  const f2 = d2 ? 4 : specialForm(p2);
  return Math.sign(f1 - f2);
}

/**
 * php_version_compare, exactly, on versions already through canonicalForm, including its quirks (not
 * always antisymmetric nor reflexive: a trailing separator makes `1.` < `1.`). Its tail recursion
 * against "#N#" is a loop here, so a long run of `#` pieces cannot exhaust the stack.
 */
function phpVersionCompare(canonical1: string, canonical2: string): number {
  let c1 = canonical1;
  let c2 = canonical2;
  for (;;) {
    if (c1 === "" || c2 === "") return c1 === c2 ? 0 : c1 === "" ? -1 : 1;
    let p1 = 0;
    let p2 = 0;
    let n1 = 0;
    let n2 = 0;
    while (p1 < c1.length && p2 < c2.length && n1 >= 0 && n2 >= 0) {
      n1 = c1.indexOf(".", p1);
      n2 = c2.indexOf(".", p2);
      const compare = comparePieces(
        c1.slice(p1, n1 < 0 ? c1.length : n1),
        c2.slice(p2, n2 < 0 ? c2.length : n2),
      );
      if (compare !== 0) return compare;
      if (n1 >= 0) p1 = n1 + 1;
      if (n2 >= 0) p2 = n2 + 1;
    }
    if (n1 >= 0) {
      if (isAsciiDigit(c1.charCodeAt(p1))) return 1;
      c1 = canonicalForm(c1.slice(p1));
      c2 = "#N#";
    } else if (n2 >= 0) {
      if (isAsciiDigit(c2.charCodeAt(p2))) return -1;
      c1 = "#N#";
      c2 = canonicalForm(c2.slice(p2));
    } else return 0;
  }
}

/** What PHP sees: leading v/V trimmed (as OSV's generator does with `ltrim($v, "vV")`), cut at a NUL. */
function phpString(version: string): string {
  let i = 0;
  while (version.charCodeAt(i) === 118 || version.charCodeAt(i) === 86) i++;
  const nul = version.indexOf("\u0000", i);
  return version.slice(i, nul < 0 ? version.length : nul);
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const x = canonicalForm(phpString(a));
  const y = canonicalForm(phpString(b));
  const forward = phpVersionCompare(x, y);
  const backward = phpVersionCompare(y, x);
  if (forward === -backward) return forward;
  // PHP contradicts itself on this pair (a trailing separator): order by the canonical text instead.
  return compareStrings(x, y);
}

// version_compare takes any string; a Composer version is one printable ASCII token.
const VALID = /^[\x21-\x7e]+$/;

export const packagist: Versioning = {
  id: "packagist",
  ecosystems: ["Packagist"],
  isValid: (version) => VALID.test(version) && phpString(version) !== "",
  compare,
};
