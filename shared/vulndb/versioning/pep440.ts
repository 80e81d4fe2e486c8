import { VERSION_PATTERN } from "@renovatebot/pep440/lib/version.js";
import { compareDigitRuns, compareStrings } from "./digits.js";
import { compareLists } from "./lists.js";
import type { Versioning } from "./versioning.js";

// PEP 440 as Python's `packaging` orders it. The grammar is @renovatebot/pep440's; the ordering
// key is built here because that package turns every number into a JS Number (2^53 limit), and
// because OSV's PyPI data still holds pre-PEP 440 ("legacy") versions, which packaging < 22
// accepted and sorted before every PEP 440 version.

const PEP440 = new RegExp(`^\\s*${VERSION_PATTERN}\\s*$`, "i");

/** A key element: numbers and strings compare within their kind; -inf/+inf bracket everything. */
type Part = { n: string } | { s: string } | "-inf" | "+inf" | Part[];

function comparePart(a: Part, b: Part): number {
  if (a === b) return 0;
  if (a === "-inf" || b === "+inf") return -1;
  if (a === "+inf" || b === "-inf") return 1;
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? a : [a];
    const y = Array.isArray(b) ? b : [b];
    return compareLists(x, y, comparePart);
  }
  if ("n" in a && "n" in b) return compareDigitRuns(a.n, b.n);
  if ("s" in a && "s" in b) return compareStrings(a.s, b.s);
  return "n" in a ? 1 : -1;
}

const PRE_LETTER: Record<string, string> = {
  a: "a",
  alpha: "a",
  b: "b",
  beta: "b",
  c: "rc",
  rc: "rc",
  pre: "rc",
  preview: "rc",
};

function pep440Key(m: RegExpExecArray): Part {
  const g = m.groups ?? {};
  const release = (g.release ?? "0").split(".");
  while (release.length > 0 && /^0+$/.test(release[release.length - 1]!)) release.pop();
  const postNumber = g.post_n1 ?? g.post_n2;
  const hasPost = g.post_l !== undefined || g.post_n1 !== undefined;
  const hasDev = g.dev_l !== undefined;
  let pre: Part;
  if (g.pre_l !== undefined) pre = [{ s: PRE_LETTER[g.pre_l.toLowerCase()]! }, { n: g.pre_n ?? "0" }];
  else if (!hasPost && hasDev)
    pre = "-inf"; // 1.0.dev0 sorts before 1.0a0
  else pre = "+inf";
  const post: Part = hasPost ? { n: postNumber ?? "0" } : "-inf";
  const dev: Part = hasDev ? { n: g.dev_n ?? "0" } : "+inf";
  const local: Part =
    g.local === undefined
      ? "-inf"
      : g.local
          .split(/[._-]/)
          .map((p): Part => (/^\d+$/.test(p) ? [{ n: p }, { s: "" }] : ["-inf", { s: p.toLowerCase() }]));
  return [{ n: g.epoch ?? "0" }, release.map((n) => ({ n })), pre, post, dev, local];
}

const LEGACY_TOKEN = /(\d+|[a-z]+|\.|-)/;
const LEGACY_REPLACE: Record<string, string> = { pre: "c", preview: "c", "-": "final-", rc: "c", dev: "@" };

/** packaging's LegacyVersion key: zero-padded numbers and `*`-prefixed words, compared as text. */
function legacyKey(version: string): string[] {
  const parts: string[] = [];
  const add = (part: string) => {
    if (part.startsWith("*")) {
      if (part < "*final") while (parts[parts.length - 1] === "*final-") parts.pop();
      while (parts[parts.length - 1] === "00000000") parts.pop();
    }
    parts.push(part);
  };
  for (const raw of version.toLowerCase().split(LEGACY_TOKEN)) {
    const token = LEGACY_REPLACE[raw] ?? raw;
    if (token === "" || token === ".") continue;
    add(/^\d/.test(token) ? token.padStart(8, "0") : `*${token}`);
  }
  add("*final"); // alpha/beta/candidate sort before the final release
  return parts;
}

function compareLegacy(a: string[], b: string[]): number {
  return compareLists(a, b, compareStrings);
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const ma = PEP440.exec(a);
  const mb = PEP440.exec(b);
  if (ma && mb) return comparePart(pep440Key(ma), pep440Key(mb));
  // LegacyVersion's epoch is -1: every legacy version sorts before every PEP 440 one.
  if (ma || mb) return ma ? 1 : -1;
  return compareLegacy(legacyKey(a), legacyKey(b));
}

/** PEP 440, or a legacy version as packaging < 22 took it (any string without spaces or control characters). */
function isValid(version: string): boolean {
  if (PEP440.test(version)) return true;
  return /^[^\s\p{Cc}]+$/u.test(version);
}

export const pep440: Versioning = {
  id: "pep440",
  ecosystems: ["PyPI"],
  isValid,
  compare,
};
