import { compareDigitRuns } from "./digits.js";
import { compareLists, compareNumericOrText } from "./lists.js";
import type { Versioning } from "./versioning.js";

// CRAN: R's `utils::compareVersion` — split on `.` and `-`, compare the pieces as integers, and a
// version that runs out of pieces first is the lower one (`0.1.0` < `0.1.0.0`).

/** R's integers are 32-bit: a larger piece makes `as.integer` (and so compareVersion) fail. */
const INT_MAX = "2147483647";

function compare(a: string, b: string): number {
  if (a === b) return 0;
  // Not an R version at all: text pieces after the numbers keep the order total.
  return compareLists(a.split(/[.-]/), b.split(/[.-]/), (x, y) => compareNumericOrText(x, y));
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
