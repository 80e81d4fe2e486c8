import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";

// Gem::Version: `-` means `.pre.`, the version is read as numbers and letter runs, trailing zeros
// of the release part and of the pre-release part are dropped, and a letter run (a pre-release)
// sorts before any number.

/** Segments as Gem::Version#canonical_segments has them: digits or letter runs, flagged numeric. */
interface Segments {
  text: string[];
  numeric: boolean[];
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

function canonicalSegments(version: string): Segments {
  const text: string[] = [];
  const numeric: boolean[] = [];
  const s = version.trim();
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    const run = isAsciiDigit(c) ? isAsciiDigit : isLetter(c) ? isLetter : undefined;
    if (run) {
      const end = scanWhile(s, i, run);
      text.push(s.slice(i, end));
      numeric.push(run === isAsciiDigit);
      i = end;
    } else {
      if (c === 45) {
        text.push("pre"); // Gem::Version reads "-" as ".pre."
        numeric.push(false);
      }
      i++;
    }
  }
  // Trailing zeros go from the release part and from the pre-release part (from the first letters on).
  let firstString = numeric.indexOf(false);
  if (firstString < 0) firstString = numeric.length;
  const isZero = (k: number) => numeric[k] && /^0+$/.test(text[k]!);
  let releaseEnd = firstString;
  while (releaseEnd > 0 && isZero(releaseEnd - 1)) releaseEnd--;
  let preEnd = numeric.length;
  while (preEnd > firstString && isZero(preEnd - 1)) preEnd--;
  const keep = (k: number) => k < releaseEnd || (k >= firstString && k < preEnd);
  return { text: text.filter((_, k) => keep(k)), numeric: numeric.filter((_, k) => keep(k)) };
}

function compare(a: string, b: string): number {
  if (a.trim() === b.trim()) return 0;
  const sa = canonicalSegments(a);
  const sb = canonicalSegments(b);
  const n = Math.max(sa.text.length, sb.text.length);
  for (let k = 0; k < n; k++) {
    // A missing segment counts as 0.
    const ln = k < sa.text.length ? sa.numeric[k]! : true;
    const rn = k < sb.text.length ? sb.numeric[k]! : true;
    const l = sa.text[k] ?? "0";
    const r = sb.text[k] ?? "0";
    if (ln !== rn) return ln ? 1 : -1;
    const d = ln ? compareDigitRuns(l, r) : compareStrings(l, r);
    if (d !== 0) return d;
  }
  return 0;
}

// Gem::Version::ANCHORED_VERSION_PATTERN (an empty string, which Ruby reads as "0", is refused here).
const VALID = /^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$/;

export const rubygems: Versioning = {
  id: "rubygems",
  ecosystems: ["RubyGems"],
  isValid: (version) => VALID.test(version),
  compare,
};
