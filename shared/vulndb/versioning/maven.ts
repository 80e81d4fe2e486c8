import { compareDigitRuns, compareStrings, isAsciiDigit } from "./digits.js";
import type { Versioning } from "./versioning.js";

// Maven's ComparableVersion (maven-artifact 3.8): the version splits on `.`, `-` and digit/letter
// transitions into numbers, qualifiers and nested lists (each `-` or transition opens a sub-list),
// trailing "null" items (0, "", empty lists) are dropped, and lists compare item by item.
// Written without recursion or a node per list: a version with a million hyphens nests a million
// lists deep.

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE = String(QUALIFIERS.indexOf(""));
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const SHORT: Record<string, string> = { a: "alpha", b: "beta", m: "milestone" };

/**
 * The parsed list tree, flattened. A sub-list is only ever opened as the last item of its parent,
 * so the tree is a chain of levels: level k holds the items `[start[k], end[k])` of `values`, then
 * (when `child[k]`) the list of level k + 1. A number is kept as its digits, a qualifier as the
 * text ComparableVersion orders it by ("0".."6" for known ones, "7-<text>" for the rest).
 */
interface ParsedVersion {
  values: string[];
  numeric: boolean[];
  start: number[];
  end: number[];
  child: boolean[];
}

function qualifierKey(text: string, followedByDigit: boolean): string {
  let value = followedByDigit && text.length === 1 ? (SHORT[text] ?? text) : text;
  value = ALIASES[value] ?? value;
  const i = QUALIFIERS.indexOf(value);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${value}`;
}

function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return digits.slice(i);
}

function isNullItem(p: ParsedVersion, i: number): boolean {
  return p.numeric[i] ? p.values[i] === "0" : p.values[i] === RELEASE;
}

function parse(version: string): ParsedVersion {
  const v = version.toLowerCase();
  const p: ParsedVersion = { values: [], numeric: [], start: [0], end: [], child: [false] };
  const push = (value: string, numeric: boolean) => {
    p.values.push(value);
    p.numeric.push(numeric);
  };
  const pushText = (isDigit: boolean, text: string) =>
    isDigit ? push(stripZeros(text), true) : push(qualifierKey(text, false), false);
  const open = () => {
    p.child[p.child.length - 1] = true;
    p.end.push(p.values.length);
    p.start.push(p.values.length);
    p.child.push(false);
  };
  const levelHasItems = () => p.values.length > p.start[p.start.length - 1]!;
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 /* . */ || c === 45 /* - */) {
      if (i === start) push("0", true);
      else pushText(isDigit, v.slice(start, i));
      start = i + 1;
      if (c === 45) open();
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > start) {
        // a qualifier after `.` nests like one after `-` (1.0.0.X1 < 1.0.0-X2), as in Maven 3.8.7
        if (levelHasItems()) open();
        push(qualifierKey(v.slice(start, i), true), false);
        start = i;
        open();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        push(stripZeros(v.slice(start, i)), true);
        start = i;
        open();
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    if (!isDigit && levelHasItems()) open();
    pushText(isDigit, v.slice(start));
  }
  p.end.push(p.values.length);
  // Innermost first, as Maven pops its stack: an empty sub-list goes, and so do trailing null items
  // (0, ""), looking past a non-empty sub-list.
  for (let k = p.start.length - 1; k >= 0; k--) {
    const next = k + 1;
    if (p.child[k] && p.start[next] === p.end[next] && !p.child[next]) p.child[k] = false;
    let e = p.end[k]!;
    while (e > p.start[k]! && isNullItem(p, e - 1)) e--;
    p.end[k] = e;
  }
  return p;
}

/** One position in a level: an item index, the sub-list, or nothing (padding). */
type Slot = { item: number } | "list" | undefined;

function slot(p: ParsedVersion, k: number, i: number): Slot {
  const n = p.end[k]! - p.start[k]!;
  if (i < n) return { item: p.start[k]! + i };
  if (i === n && p.child[k]) return "list";
  return undefined;
}

/** item.compareTo(null): a number against padding, a qualifier against the release. */
function itemWithNothing(p: ParsedVersion, item: number): number {
  if (p.numeric[item]) return p.values[item] === "0" ? 0 : 1;
  return compareStrings(p.values[item]!, RELEASE);
}

/**
 * The slot `s` at level k against padding. A sub-list compares every item in turn, nested lists
 * included, not just its first (MNG-6964): 1.0-final.2 > 1.0-0.
 */
function compareWithNothing(p: ParsedVersion, k: number, s: Slot): number {
  if (s === undefined) return 0;
  if (s !== "list") return itemWithNothing(p, s.item);
  for (let level = k + 1; ; level++) {
    for (let i = p.start[level]!; i < p.end[level]!; i++) {
      const d = itemWithNothing(p, i);
      if (d !== 0) return d;
    }
    if (!p.child[level]) return 0;
  }
}

function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  let k = 0;
  for (let i = 0; ; i++) {
    const l = slot(a, k, i);
    const r = slot(b, k, i);
    if (l === undefined && r === undefined) return 0;
    if (l === "list" && r === "list") {
      // Both sub-lists are the last item of their level: their order is the order of this level.
      k++;
      i = -1;
      continue;
    }
    let d: number;
    if (l === undefined) d = -compareWithNothing(b, k, r);
    else if (r === undefined) d = compareWithNothing(a, k, l);
    else if (l === "list") d = b.numeric[(r as { item: number }).item] ? -1 : 1;
    else if (r === "list") d = a.numeric[l.item] ? 1 : -1;
    else if (a.numeric[l.item] !== b.numeric[r.item]) d = a.numeric[l.item] ? 1 : -1;
    else if (a.numeric[l.item]) d = compareDigitRuns(a.values[l.item]!, b.values[r.item]!);
    else d = compareStrings(a.values[l.item]!, b.values[r.item]!);
    if (d !== 0) return d;
  }
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  return Math.sign(compareParsed(parse(a), parse(b))) || 0;
}

export const maven: Versioning = {
  id: "maven",
  ecosystems: ["Maven"],
  // ComparableVersion takes any string; reject only blank ones and those with spaces or control characters.
  isValid: (version) => /^[^\s\p{Cc}]+$/u.test(version),
  compare,
};
