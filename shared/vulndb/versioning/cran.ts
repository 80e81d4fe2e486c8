import { compareDigitRuns, compareStrings } from "./digits.js";
import type { Versioning } from "./versioning.js";

// CRAN: R's `utils::compareVersion` — split on `.` and `-`, compare the pieces as integers, and a
// version that runs out of pieces first is the lower one (`0.1.0` < `0.1.0.0`).

const NUMERIC = /^\d+$/;

/** R's integers are 32-bit: a larger piece makes `as.integer` (and so compareVersion) fail. */
const INT_MAX = "2147483647";

function comparePieces(x: string, y: string): number {
  const xn = NUMERIC.test(x);
  const yn = NUMERIC.test(y);
  if (xn && yn) return compareDigitRuns(x, y);
  // Not an R version at all: text after numbers keeps the order total.
  return xn !== yn ? (xn ? -1 : 1) : compareStrings(x, y);
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  const n = Math.min(pa.length, pb.length);
  for (let k = 0; k < n; k++) {
    const d = comparePieces(pa[k]!, pb[k]!);
    if (d !== 0) return d;
  }
  return Math.sign(pa.length - pb.length);
}

// R's valid_package_version: at least two numbers joined by `.` or `-`.
const VALID = /^\d+(?:[.-]\d+)+$/;

export const cran: Versioning = {
  id: "cran",
  ecosystems: ["CRAN"],
  isValid: (version) =>
    VALID.test(version) && version.split(/[.-]/).every((p) => compareDigitRuns(p, INT_MAX) <= 0),
  compare,
};
