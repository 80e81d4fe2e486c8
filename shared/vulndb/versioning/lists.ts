import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";

// What several schemes share: the `1.22.333` run at the head of a version, and list orders.

/** The dot-separated numbers starting at `from` (a dot continues them only before a digit), and where they stop. */
export function readDottedNumbers(s: string, from = 0): { numbers: string[]; end: number } {
  const numbers: string[] = [];
  let i = from;
  for (;;) {
    const end = scanWhile(s, i, isAsciiDigit);
    if (end === i) break;
    numbers.push(s.slice(i, end));
    i = end;
    if (s.charCodeAt(i) !== 46 || !isAsciiDigit(s.charCodeAt(i + 1))) break;
    i++;
  }
  return { numbers, end: i };
}

/** Lexicographic order of two lists: the first difference decides, else the shorter list is lower. */
export function compareLists<T>(
  a: readonly T[],
  b: readonly T[],
  compareItem: (x: T, y: T) => number,
): number {
  const m = Math.min(a.length, b.length);
  for (let k = 0; k < m; k++) {
    const d = compareItem(a[k]!, b[k]!);
    if (d !== 0) return d;
  }
  return Math.sign(a.length - b.length);
}

/** Number lists where a missing part is 0, so `1.0` = `1.0.0` (SemVer cores, NuGet). */
export function compareZeroPadded(a: readonly string[], b: readonly string[]): number {
  const n = Math.max(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const d = compareDigitRuns(a[k] ?? "0", b[k] ?? "0");
    if (d !== 0) return d;
  }
  return 0;
}

const NUMERIC = /^\d+$/;

/** A numeric piece by value, below any text piece; text pieces by `compareText` (code units by default). */
export function compareNumericOrText(
  a: string,
  b: string,
  compareText: (x: string, y: string) => number = compareStrings,
): number {
  const an = NUMERIC.test(a);
  const bn = NUMERIC.test(b);
  if (an && bn) return compareDigitRuns(a, b);
  if (an !== bn) return an ? -1 : 1;
  return compareText(a, b);
}
