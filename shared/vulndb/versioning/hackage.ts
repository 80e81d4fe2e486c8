import { compareDigitRuns, compareStrings } from "./digits.js";
import { compareLists, readDottedNumbers } from "./lists.js";
import type { Versioning } from "./versioning.js";

// Hackage: Cabal's `Version` (Data.Version's branch): dot-separated numbers compared
// lexicographically as lists, so a version that is a prefix of another is the lower (`1.0` < `1.0.0`).

interface Branch {
  numbers: string[];
  /** whatever follows the numbers; empty for a valid version */
  rest: string;
}

function parse(version: string): Branch {
  const { numbers, end } = readDottedNumbers(version);
  return { numbers, rest: version.slice(end) };
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const va = parse(a);
  const vb = parse(b);
  const numbers = compareLists(va.numbers, vb.numbers, compareDigitRuns);
  if (numbers !== 0) return numbers;
  // Not a Cabal version (tags, junk): the text after the numbers keeps the order total.
  return compareStrings(va.rest, vb.rest);
}

// Cabal's parser: no leading zeros and at most 9 digits per number (it must fit a 32-bit Int).
const VALID = /^(?:0|[1-9]\d{0,8})(?:\.(?:0|[1-9]\d{0,8}))*$/;

export const hackage: Versioning = {
  id: "hackage",
  ecosystems: ["Hackage"],
  isValid: (version) => VALID.test(version),
  compare,
};
