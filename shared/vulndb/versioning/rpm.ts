import { compareDigitRuns, compareStrings, isAsciiDigit, isAsciiLetter } from "./digits.js";
import type { Versioning } from "./versioning.js";

// [epoch:]version[-release], each part compared with rpmvercmp (tilde sorts before anything,
// caret after the base version but before anything appended with a separator).

interface RpmVersion {
  epoch: string;
  version: string;
  release: string | undefined;
}

function parse(evr: string): RpmVersion {
  let i = 0;
  while (i < evr.length && isAsciiDigit(evr.charCodeAt(i))) i++;
  let epoch = "0";
  let rest = evr;
  // Only a run of digits before the first colon is an epoch: `a:1` is a version containing a colon.
  if (evr.charCodeAt(i) === 58) {
    epoch = evr.slice(0, i) || "0";
    rest = evr.slice(i + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  if (hyphen < 0) return { epoch, version: rest, release: undefined };
  return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
}

function isSeparator(c: number): boolean {
  return !isAsciiDigit(c) && !isAsciiLetter(c) && c !== 126 && c !== 94;
}

/** rpmvercmp: runs of digits or letters, everything else (non-ASCII too) separates them. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && isSeparator(a.charCodeAt(i))) i++;
    while (j < b.length && isSeparator(b.charCodeAt(j))) j++;
    const ca = a.charCodeAt(i); // NaN past the end
    const cb = b.charCodeAt(j);
    if (ca === 126 || cb === 126) {
      if (ca !== 126) return 1;
      if (cb !== 126) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === 94 || cb === 94) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ca !== 94) return 1;
      if (cb !== 94) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isAsciiDigit(ca);
    const inRun = numeric ? isAsciiDigit : isAsciiLetter;
    const si = i;
    const sj = j;
    while (i < a.length && inRun(a.charCodeAt(i))) i++;
    while (j < b.length && inRun(b.charCodeAt(j))) j++;
    // b has a run of the other kind here: a number beats letters.
    if (j === sj) return numeric ? 1 : -1;
    const d = numeric
      ? compareDigitRuns(a.slice(si, i), b.slice(sj, j))
      : compareStrings(a.slice(si, i), b.slice(sj, j));
    if (d !== 0) return d;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  const d = rpmvercmp(va.epoch, vb.epoch) || rpmvercmp(va.version, vb.version);
  if (d !== 0) return d;
  // As rpm.vercmp does: a version without a release sorts before the same version with any release.
  if (va.release === undefined || vb.release === undefined) {
    if (va.release === vb.release) return 0;
    return va.release === undefined ? -1 : 1;
  }
  return rpmvercmp(va.release, vb.release);
}

/** rpm accepts nearly anything; reject only what cannot be an EVR at all. */
function isValid(version: string): boolean {
  if (!/^[^\s\p{Cc}]+$/u.test(version)) return false;
  return parse(version).version !== "";
}

export const rpm: Versioning = {
  id: "rpm",
  ecosystems: [
    "Red Hat",
    "Rocky Linux",
    "AlmaLinux",
    "SUSE",
    "openSUSE",
    "Mariner",
    "Azure Linux",
    "openEuler",
  ],
  isValid,
  compare,
};
