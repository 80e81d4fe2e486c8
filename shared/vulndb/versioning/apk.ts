import { compareDigitRuns, compareStrings, isAsciiDigit, scanWhile } from "./digits.js";
import type { Versioning } from "./versioning.js";

// Alpine, as current apk-tools (3.x) orders versions: digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#},
// read as a stream of typed tokens. Each token may only be followed by a token of a later kind (or
// another digit / suffix); anything else ends the stream as invalid, and two versions that break
// off at the same token compare equal, as apk says. One addition, see `next()`: apk-tools 2 digits
// after the letter.

const Kind = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNumber: 4,
  CommitHash: 5,
  Revision: 6,
  End: 7,
  Invalid: 8,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** Suffix order; "no suffix" sits at 5, between the pre-release and the post-release suffixes. */
const SUFFIX_RANK: ReadonlyMap<string, number> = new Map([
  ["alpha", 1],
  ["beta", 2],
  ["pre", 3],
  ["rc", 4],
  ["cvs", 6],
  ["svn", 7],
  ["git", 8],
  ["hg", 9],
  ["p", 10],
]);
const NO_SUFFIX = 5;

const isLower = (c: number) => c >= 97 && c <= 122;
const isHex = (c: number) => isAsciiDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

class TokenReader {
  kind: Kind = Kind.InitialDigit;
  text = "";
  suffix = 0;
  private pos = 0;

  constructor(private readonly s: string) {
    this.digits(Kind.InitialDigit);
  }

  private digits(kind: Kind): void {
    const end = scanWhile(this.s, this.pos, isAsciiDigit);
    this.text = this.s.slice(this.pos, end);
    this.pos = end;
    this.kind = this.text === "" ? Kind.Invalid : kind;
  }

  next(): void {
    const { s } = this;
    if (this.kind >= Kind.End) return;
    if (this.pos >= s.length) {
      this.kind = Kind.End;
      return;
    }
    const c = s.charCodeAt(this.pos);
    const prev = this.kind;
    if (isLower(c)) {
      if (prev > Kind.Digit) {
        this.invalid();
        return;
      }
      this.text = s[this.pos]!;
      this.pos++;
      this.kind = Kind.Letter;
    } else if (c === 46 /* . */ || isAsciiDigit(c)) {
      if (c === 46) {
        if (prev > Kind.Digit) {
          this.invalid();
          return;
        }
        this.pos++;
      }
      // A digit run after the letter (`6.0.2p1`) is apk-tools 2 grammar, which apk-tools 3 refuses;
      // Alpine shipped such versions and OSV still lists them, so they keep apk 2's order.
      if (prev === Kind.InitialDigit || prev === Kind.Digit || (prev === Kind.Letter && c !== 46)) {
        this.digits(Kind.Digit);
      } else if (prev === Kind.Suffix) this.digits(Kind.SuffixNumber);
      else this.invalid();
    } else if (c === 95 /* _ */) {
      if (prev > Kind.SuffixNumber) {
        this.invalid();
        return;
      }
      const end = scanWhile(s, this.pos + 1, isLower);
      this.text = s.slice(this.pos + 1, end);
      this.pos = end;
      const rank = SUFFIX_RANK.get(this.text);
      if (rank === undefined) {
        this.invalid();
        return;
      }
      this.suffix = rank;
      this.kind = Kind.Suffix;
    } else if (c === 126 /* ~ */) {
      if (prev >= Kind.CommitHash) {
        this.invalid();
        return;
      }
      const end = scanWhile(s, this.pos + 1, isHex);
      this.text = s.slice(this.pos + 1, end);
      this.pos = end;
      this.kind = this.text === "" ? Kind.Invalid : Kind.CommitHash;
    } else if (c === 45 /* - */) {
      if (prev >= Kind.Revision || s.charCodeAt(this.pos + 1) !== 114 /* r */) {
        this.invalid();
        return;
      }
      this.pos += 2;
      this.digits(Kind.Revision);
    } else {
      this.invalid();
    }
  }

  private invalid(): void {
    this.kind = Kind.Invalid;
  }
}

function compareTokens(a: TokenReader, b: TokenReader): number {
  switch (a.kind) {
    case Kind.Digit:
      // A leading zero makes apk compare the digits as text (Gentoo's rule for "1.05" vs "1.1").
      if (a.text.charCodeAt(0) === 48 || b.text.charCodeAt(0) === 48) return compareStrings(a.text, b.text);
      return compareDigitRuns(a.text, b.text);
    case Kind.InitialDigit:
    case Kind.SuffixNumber:
    case Kind.Revision:
      return compareDigitRuns(a.text, b.text);
    case Kind.Suffix:
      return Math.sign(a.suffix - b.suffix);
    default:
      return compareStrings(a.text, b.text);
  }
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const ta = new TokenReader(a);
  const tb = new TokenReader(b);
  while (ta.kind === tb.kind && ta.kind < Kind.End) {
    const d = compareTokens(ta, tb);
    if (d !== 0) return d;
    ta.next();
    tb.next();
  }
  // Equal so far and both ended (or both broke off at the same place): apk says "equal".
  if (ta.kind === tb.kind) return 0;
  // Otherwise the one that goes on is newer, unless what follows is a pre-release suffix.
  if (ta.kind === Kind.Suffix && ta.suffix < NO_SUFFIX) return -1;
  if (tb.kind === Kind.Suffix && tb.suffix < NO_SUFFIX) return 1;
  return ta.kind > tb.kind ? -1 : 1;
}

function isValid(version: string): boolean {
  const t = new TokenReader(version);
  while (t.kind < Kind.End) t.next();
  return t.kind === Kind.End;
}

export const apk: Versioning = {
  id: "apk",
  ecosystems: ["Alpine", "Chainguard", "Wolfi"],
  isValid,
  compare,
};
