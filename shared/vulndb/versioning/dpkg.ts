import { compareDigitRuns, isAsciiDigit, isAsciiLetter } from "./digits.js";
import type { Versioning } from "./versioning.js";

// deb-version(7): [epoch:]upstream_version[-debian_revision], compared like dpkg's verrevcmp.

interface DpkgVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

const EPOCH = /^\d+$/;

function parse(version: string): DpkgVersion {
  const s = version.trim();
  let epoch = "0";
  let rest = s;
  const colon = s.indexOf(":");
  // dpkg rejects a non-numeric epoch; to stay total we read such a string as having no epoch.
  if (colon > 0 && EPOCH.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon);
    rest = s.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  if (hyphen < 0) return { epoch, upstream: rest, revision: "" };
  return { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

/** dpkg's character weight: `~` before the end, the end before letters, letters before the rest. */
function weight(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (isAsciiDigit(c)) return 0;
  if (isAsciiLetter(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** Alternating non-digit / digit runs, as dpkg's verrevcmp. */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (
      (i < a.length && !isAsciiDigit(a.charCodeAt(i))) ||
      (j < b.length && !isAsciiDigit(b.charCodeAt(j)))
    ) {
      const wa = weight(a, i);
      const wb = weight(b, j);
      if (wa !== wb) return wa < wb ? -1 : 1;
      i++;
      j++;
    }
    const si = i;
    const sj = j;
    while (i < a.length && isAsciiDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isAsciiDigit(b.charCodeAt(j))) j++;
    const d = compareDigitRuns(a.slice(si, i), b.slice(sj, j));
    if (d !== 0) return d;
  }
  return 0;
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  return (
    compareDigitRuns(va.epoch, vb.epoch) ||
    compareFragment(va.upstream, vb.upstream) ||
    compareFragment(va.revision, vb.revision)
  );
}

const UPSTREAM_CHARS = /^[A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]*$/;

/** dpkg's parseversion, with its warnings (no leading digit, stray characters) treated as failures. */
function isValid(version: string): boolean {
  const s = version.trim();
  if (s === "" || /\s/.test(s)) return false;
  const colon = s.indexOf(":");
  let rest = s;
  if (colon >= 0) {
    if (!EPOCH.test(s.slice(0, colon))) return false;
    rest = s.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  const upstream = hyphen < 0 ? rest : rest.slice(0, hyphen);
  if (hyphen >= 0 && hyphen === rest.length - 1) return false;
  if (upstream === "" || !isAsciiDigit(upstream.charCodeAt(0))) return false;
  if (!UPSTREAM_CHARS.test(upstream)) return false;
  return hyphen < 0 || REVISION_CHARS.test(rest.slice(hyphen + 1));
}

export const dpkg: Versioning = {
  id: "dpkg",
  ecosystems: ["Debian", "Ubuntu"],
  isValid,
  compare,
};
