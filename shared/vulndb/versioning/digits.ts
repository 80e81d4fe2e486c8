/**
 * Compares two runs of ASCII digits by numeric value, with no size limit and in linear time:
 * version numbers in the wild exceed 2^53 (dates, build stamps), so `Number` is not an option.
 * An empty run counts as zero.
 */
export function compareDigitRuns(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && a.charCodeAt(i) === 48) i++;
  while (j < b.length && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Plain code-unit ordering of two strings as -1, 0 or 1. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isAsciiDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Index of the first position at or after `from` whose code unit fails `pred` (or the length). */
export function scanWhile(s: string, from: number, pred: (c: number) => boolean): number {
  let i = from;
  while (i < s.length && pred(s.charCodeAt(i))) i++;
  return i;
}
