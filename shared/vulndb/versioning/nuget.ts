import { type SemVerDialect, semverComparator, semverPattern } from "./semver.js";
import type { Versioning } from "./versioning.js";

// NuGet.Versioning is SemVer with case-insensitive labels and up to four numeric parts (missing
// ones are 0, so 1.0 = 1.0.0.0); no `v` prefix, surrounding whitespace ignored, build metadata too.

const NUGET: SemVerDialect = { vPrefix: false, foldLabelCase: true, maxCoreParts: 4 };
const compareNuGet = semverComparator(NUGET);
const VALID = semverPattern(NUGET);

export const nuget: Versioning = {
  id: "nuget",
  ecosystems: ["NuGet"],
  isValid: (version) => VALID.test(version.trim()),
  compare: (a, b) => compareNuGet(a.trim(), b.trim()),
};
