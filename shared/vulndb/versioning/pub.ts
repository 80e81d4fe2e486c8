import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";
import { compareLists } from "./lists.js";

// Pub: Dart's pub_semver `Version.compareTo`. Like SemVer 2.0 (a pre-release sorts before its
// release), except that build metadata orders too: no build < any build, and builds compare piece
// by piece like pre-releases (`1.0.0` < `1.0.0+1` < `1.0.0+a`). A piece is a number when Dart's
// `int.tryParse` reads it (64-bit, `-` sign, `0x` hex) and numbers sort before words.

interface PubVersion {
  /** major.minor.patch as digit strings (any count here; pub_semver wants exactly three) */
  core: string[];
  pre: Piece[];
  build: Piece[];
  valid: boolean;
}

type Piece = bigint | string;

const INT64_MAX = (1n << 63n) - 1n;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;
const DECIMAL = /^([+-]?)0*(\d{1,19})$/;
const HEX = /^([+-]?)0[xX]0*([0-9a-fA-F]{1,16})$/;

/** Dart's `int.tryParse` on a 64-bit VM: undefined where it returns null. */
function dartInt(text: string): bigint | undefined {
  const dec = DECIMAL.exec(text);
  if (dec) {
    const v = BigInt(dec[1] === "-" ? `-${dec[2]}` : dec[2]!);
    return v > INT64_MAX || v < -INT64_MAX - 1n ? undefined : v;
  }
  const hex = HEX.exec(text);
  if (!hex) return undefined;
  // Hex literals read as unsigned 64-bit and wrap to the signed value (`0xFFFFFFFFFFFFFFFF` is -1).
  const v = BigInt(`0x${hex[2]}`);
  return BigInt.asIntN(64, hex[1] === "-" ? -v : v);
}

/** pub_semver's `_splitParts`: undefined when a piece is not a SemVer identifier. */
function pieces(text: string): Piece[] | undefined {
  const out: Piece[] = [];
  for (const part of text.split(".")) {
    if (!IDENTIFIER.test(part)) return undefined;
    out.push(dartInt(part) ?? part);
  }
  return out;
}

/** Leading `v`, fewer or more than three numbers, numbers past 64 bits: accepted here, flagged invalid. */
function parse(version: string): PubVersion | undefined {
  const prefixed = version.charCodeAt(0) === 118 || version.charCodeAt(0) === 86; // v / V
  let i = prefixed ? 1 : 0;
  const core: string[] = [];
  for (;;) {
    const end = scanWhile(version, i, isAsciiDigit);
    if (end === i) return undefined;
    core.push(version.slice(i, end));
    i = end;
    if (version.charCodeAt(i) !== 46) break;
    i++;
  }
  const plus = version.indexOf("+", i);
  const preEnd = plus < 0 ? version.length : plus;
  let pre: Piece[] | undefined = [];
  if (i < preEnd) pre = version.charCodeAt(i) === 45 ? pieces(version.slice(i + 1, preEnd)) : undefined;
  const build = plus < 0 ? [] : pieces(version.slice(plus + 1));
  if (!pre || !build) return undefined;
  const valid =
    !prefixed && core.length === 3 && core.every((n) => compareDigitRuns(n, INT64_MAX.toString()) <= 0);
  return { core, pre, build, valid };
}

function comparePiece(x: Piece, y: Piece): number {
  const xn = typeof x === "bigint";
  const yn = typeof y === "bigint";
  if (xn && yn) return x < y ? -1 : x > y ? 1 : 0;
  if (xn !== yn) return xn ? -1 : 1;
  return compareStrings(x as string, y as string);
}

/** `_compareLists`: piece by piece, a missing piece before a present one. */
const comparePieces = (a: Piece[], b: Piece[]): number => compareLists(a, b, comparePiece);

function compareParsed(a: PubVersion, b: PubVersion): number {
  const n = Math.max(a.core.length, b.core.length);
  for (let k = 0; k < n; k++) {
    const d = compareDigitRuns(a.core[k] ?? "0", b.core[k] ?? "0");
    if (d !== 0) return d;
  }
  // Pre-releases come before the release; builds come after the plain version.
  if ((a.pre.length === 0) !== (b.pre.length === 0)) return a.pre.length === 0 ? 1 : -1;
  const pre = comparePieces(a.pre, b.pre);
  if (pre !== 0) return pre;
  return comparePieces(a.build, b.build);
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  if (va && vb) return compareParsed(va, vb);
  // Not a version even leniently: before every version, in text order, so the order stays total.
  if (va || vb) return va ? 1 : -1;
  return compareStrings(a, b);
}

export const pub: Versioning = {
  id: "pub",
  ecosystems: ["Pub"],
  isValid: (version) => parse(version)?.valid === true,
  compare,
};
