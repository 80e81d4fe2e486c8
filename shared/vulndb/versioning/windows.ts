import { compareDigitRuns, compareStrings } from "./digits.js";
import type { Versioning } from "./versioning.js";

// Windows build numbers: `10.0.26100.4061` (file/OS version) and `26100.4061` (build.UBR, as MSRC
// and `os.version` in image configs write them) name the same build, so a leading `10.0.` is
// dropped before a plain numeric, dotted comparison.

const NUMERIC = /^\d+$/;

function parts(version: string): string[] {
  const p = version.trim().split(".");
  if (p.length >= 3 && p[0] === "10" && p[1] === "0") return p.slice(2);
  return p;
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parts(a);
  const pb = parts(b);
  const n = Math.max(pa.length, pb.length);
  for (let k = 0; k < n; k++) {
    const x = pa[k] ?? "0";
    const y = pb[k] ?? "0";
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    // Not a build number at all: numbers first, then text, so the order stays total.
    const d = xn && yn ? compareDigitRuns(x, y) : xn !== yn ? (xn ? -1 : 1) : compareStrings(x, y);
    if (d !== 0) return d;
  }
  return 0;
}

const VALID = /^\d+(?:\.\d+){0,3}$/;

export const windows: Versioning = {
  id: "windows",
  ecosystems: ["Windows"],
  isValid: (version) => VALID.test(version.trim()),
  compare,
};
