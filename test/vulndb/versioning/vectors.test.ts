import { describe, expect, it } from "vitest";
import { versioningFor } from "../../../shared/vulndb/versioning/index.js";
import { INVERSE, type Op, opOf, readVectors, type Vector } from "./vector-file.js";

/** A line where portcullis answers differently from the vector file, and why. */
interface Deviation {
  op?: Op;
  /** versions on the line that the scheme's own tool rejects (isValid must say false) */
  invalid?: string[];
  why: string;
}

const APK3 = "current apk-tools (3.x)";
const APK_DIVERGES_EMPTY =
  `${APK3} stops at the empty component and calls both versions equal; the file records apk-tools 2, ` +
  "which read the empty component as 0 and went on";

// alpine-versions.txt mixes apk-tools 2 and 3 answers (its comments say so): we follow apk-tools 3.
// The lines below are the ones where that differs from the file, or whose versions apk rejects.
const ALPINE: Record<string, Deviation> = {
  "1-r = 1-r0": { op: "<", invalid: ["1-r"], why: `${APK3}: "-r" needs a number; invalid sorts first` },
  "1-r-0 < 1-r0": { invalid: ["1-r-0"], why: "file follows latest apk here (see its comment)" },
  "1-r-1 < 1-r0": { invalid: ["1-r-1"], why: "file follows latest apk here (see its comment)" },
  "0.r1 < 0r2": { invalid: ["0.r1"], why: "a dot must be followed by digits" },
  "0..1..0 < 0..1..1": { op: "=", invalid: ["0..1..0", "0..1..1"], why: APK_DIVERGES_EMPTY },
  "0...1...0 < 0...1...1": { op: "=", invalid: ["0...1...0", "0...1...1"], why: APK_DIVERGES_EMPTY },
  "0...1...0.r1 < 0...1...0.r2": {
    op: "=",
    invalid: ["0...1...0.r1", "0...1...0.r2"],
    why: APK_DIVERGES_EMPTY,
  },
  "0...1...0r1 < 0...1...0r2": { op: "=", invalid: ["0...1...0r1", "0...1...0r2"], why: APK_DIVERGES_EMPTY },
  "0..8 = 0..8": { invalid: ["0..8"], why: "empty component" },
  "0..8 > 0...8": { op: "=", invalid: ["0..8", "0...8"], why: APK_DIVERGES_EMPTY },
  "0.8.21.r2 > 0.8.21.r1": {
    op: "=",
    invalid: ["0.8.21.r2", "0.8.21.r1"],
    why: `${APK3} stops at ".r" in both and calls them equal; apk-tools 2 read ".r2" as 0 then letter then 2`,
  },
  "10.2.24.r0 > 10.2.22.r0": {
    invalid: ["10.2.24.r0", "10.2.22.r0"],
    why: "a dot must be followed by digits",
  },
  "0.8.21.r2 < 0.8.21r2": { invalid: ["0.8.21.r2"], why: "a dot must be followed by digits" },
  "1.2.0A < 1.2.0d": {
    invalid: ["1.2.0A"],
    why: "upper-case letter; file follows latest apk (see its comment)",
  },
  "1.2.0D < 1.2.0d": {
    invalid: ["1.2.0D"],
    why: "upper-case letter; file follows latest apk (see its comment)",
  },
  "1-r2 > 1-r-1": { invalid: ["1-r-1"], why: '"-r" needs a number' },
  "1 > 1-ruff": { invalid: ["1-ruff"], why: "file follows latest apk here (see its comment)" },
  "1-r0-1 = 1-r-2": {
    op: ">",
    invalid: ["1-r0-1", "1-r-2"],
    why: `${APK3}: "1-r0-1" has a valid revision before breaking off, "1-r-2" breaks off at it; the file has apk-tools 2's "="`,
  },
  "1-r0-1 = 1-r0-2": { invalid: ["1-r0-1", "1-r0-2"], why: "nothing may follow the revision" },
  "1-ruff2 = 1-ruff1": { invalid: ["1-ruff2", "1-ruff1"], why: '"-r" needs a number' },
  "1-ruff2 = 1--ruff1": {
    invalid: ["1-ruff2", "1--ruff1"],
    why: "file follows latest apk here (see its comment)",
  },
  "1-r0-ruff2 = 1-r0-ruff1": {
    invalid: ["1-r0-ruff2", "1-r0-ruff1"],
    why: "file follows latest apk here (see its comment)",
  },
  "1.2 > 1.2_blah": { invalid: ["1.2_blah"], why: "unknown suffix" },
  "1.2_svn1 > 1.2_csv2": { invalid: ["1.2_csv2"], why: "unknown suffix" },
  "1.2_cvs1 > 1.2_blah": { invalid: ["1.2_blah"], why: "unknown suffix" },
  ".1 < 1": { invalid: [".1"], why: "must start with a digit" },
  "1 > .1": { invalid: [".1"], why: "must start with a digit" },
  ".2 > .1": {
    op: "=",
    invalid: [".2", ".1"],
    why: `${APK3} gives "=" to two versions that both fail at the start`,
  },
  "a < b": {
    op: "=",
    invalid: ["a", "b"],
    why: `${APK3} gives "=" to two versions that both fail at the start`,
  },
  "c > b": {
    op: "=",
    invalid: ["c", "b"],
    why: `${APK3} gives "=" to two versions that both fail at the start`,
  },
  "c = c": { invalid: ["c"], why: "must start with a digit" },
  "23_foo > 4_beta": { invalid: ["23_foo"], why: "unknown suffix" },
  "1.0 < 1.0bc": { invalid: ["1.0bc"], why: "one letter at most" },
};

const MAVEN: Record<string, Deviation> = {
  "1-1 = 1-ga-1": {
    op: ">",
    why: 'Maven\'s ComparableVersion (3.8.7 and 3.9.6 checked) parses 1-ga-1 as [1, [[1]]]: "ga" is dropped but its sub-list stays, so 1-ga-1 < 1-1',
  },
};

// maven-versions-generated.txt was judged by a ComparableVersion from before a qualifier after `.`
// nested like one after `-` (1.0.0.X1 < 1.0.0-X2); maven-artifact 3.8.7, which maven-jar.test.ts
// runs on every line of both files, answers these the other way, and so do we.
const DOT_QUALIFIER =
  "maven-artifact 3.8.7 nests a qualifier after `.` as after `-` (maven-jar.test.ts checks it)";
const MAVEN_GENERATED: Record<string, Deviation> = {
  "1.0.0-RC16 < 1.0.0.RC8-beta": { op: ">", why: DOT_QUALIFIER },
  "1.0.0-gradle-rework-beta3 < 1.0.0.RC7-3": { op: ">", why: DOT_QUALIFIER },
  "2.9.0-1 < 2.9.0.RC1": { op: ">", why: DOT_QUALIFIER },
  "6.1.12.rc5 < 6.1.12rc1": { op: ">", why: DOT_QUALIFIER },
  "1.1.31.sec10 < 1.1.31_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.1.34.sec10 < 1.1.34_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.1.46.sec10 < 1.1.46_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.8.sec10_noneautotype < 1.2.8_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.31.sec10 < 1.2.31_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.48.sec10 < 1.2.48_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.50.sec10 < 1.2.50_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.54.sec10 < 1.2.54_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.57.sec10 < 1.2.57_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.60.sec10 < 1.2.60_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.2.67.sec10 < 1.2.67_noneautotype": { op: ">", why: DOT_QUALIFIER },
  "1.0.0rc0 < 1.0.beta8": { op: ">", why: DOT_QUALIFIER },
  "1.5.9.RC1 < 1.5.9-RC0": { op: ">", why: DOT_QUALIFIER },
  "1.1.0-01-glassfish < 1.1.0.Beta1": { op: ">", why: DOT_QUALIFIER },
};

const RUBYGEMS: Record<string, Deviation> = {
  "1 > 1beta": {
    invalid: ["1beta"],
    why: "Gem::Version.correct? is false (Ruby 3.1): a letter glued to the first number",
  },
  "1 > 1gamma": {
    invalid: ["1gamma"],
    why: "Gem::Version.correct? is false (Ruby 3.1): a letter glued to the first number",
  },
};

// packagist-versions.txt is osv-scalibr's own reading; the generated file (and we) follow PHP's
// version_compare as released (php-src ext/standard/versioning.c, PHP 8.x on a 64-bit build).
// "1.2.3.# = 1.2.3.#" is not listed: PHP itself returns -1 both ways there (a trailing separator makes
// it irreflexive), but a compare must be reflexive, so we answer "=" as the file does.
// php-src PR #21689 (merged 2026-04, "Fix handling of version numbers with a trailing dot") changes
// how "1.2.3." compares; revisit the two "1.2.3.#" lines when a PHP release carrying it is the current one.
const PHP_TRAILING_DOT =
  'PHP canonicalizes "1.2.3.#" to "1.2.3." (a "#" after a dot is dropped, the dot stays) and ranks the ' +
  "empty piece after that dot below the end of the other version: version_compare gives -1 (and 1 reversed)";
const PHP_LONG_MAX =
  "PHP reads numbers with strtol, which saturates at 2^63-1 on 64-bit builds: both numbers are " +
  "9223372036854775807, so version_compare gives 0";
const PACKAGIST: Record<string, Deviation> = {
  "1.2.3.# = 1.2.3": { op: "<", why: PHP_TRAILING_DOT },
  "1.2.3.# = 1.2.3.1": { op: "<", why: PHP_TRAILING_DOT },
  "999999999999999999999999999991 < 999999999999999999999999999999": { op: "=", why: PHP_LONG_MAX },
  "999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991 < 999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991":
    { op: "=", why: PHP_LONG_MAX },
};

/**
 * Versions in pub-versions.txt that pub_semver's Version.parse rejects (FormatException), with why.
 * osv-scalibr reads them leniently; so do we for ordering (the lines' answers hold), but isValid is false.
 */
function pubRejects(version: string): string | undefined {
  if (/^v/.test(version)) return 'a "v" prefix: pub_semver wants major.minor.patch from the first character';
  if (/^\d+$/.test(version)) return "a single number: pub_semver wants major.minor.patch";
  if (/^\d+(?:\.\d+){3,}$/.test(version))
    return "more than three numbers: pub_semver's pattern ends after patch";
  if (/\d{20}/.test(version)) return "a number past 2^63-1: Dart's int.parse fails, so Version.parse does";
  return undefined;
}

const PUB: Record<string, Deviation> = Object.fromEntries(
  readVectors("pub-versions.txt").flatMap((v) => {
    const invalid = [v.a, v.b].filter((x) => pubRejects(x) !== undefined);
    if (invalid.length === 0) return [];
    const why = [...new Set(invalid.map((x) => pubRejects(x)!))].join("; ");
    return [[v.text, { invalid, why }]];
  }),
);

/** vector file → the OSV ecosystems it is run for (as upstream), and the lines we answer differently */
const FILES: [file: string, ecosystems: string[], deviations: Record<string, Deviation>][] = [
  ["alpine-versions.txt", ["Alpine"], ALPINE],
  ["alpine-versions-generated.txt", ["Alpine"], {}],
  ["debian-versions.txt", ["Debian", "Ubuntu"], {}],
  ["debian-versions-generated.txt", ["Debian"], {}],
  ["redhat-versions.txt", ["Red Hat"], {}],
  ["semver-versions.txt", ["npm", "crates.io", "Go", "Hex"], {}],
  ["maven-versions.txt", ["Maven"], MAVEN],
  ["maven-versions-generated.txt", ["Maven"], MAVEN_GENERATED],
  ["nuget-versions.txt", ["NuGet"], {}],
  ["pypi-versions.txt", ["PyPI"], {}],
  ["pypi-versions-generated.txt", ["PyPI"], {}],
  ["rubygems-versions.txt", ["RubyGems"], RUBYGEMS],
  ["rubygems-versions-generated.txt", ["RubyGems"], {}],
  ["packagist-versions.txt", ["Packagist"], PACKAGIST],
  ["packagist-versions-generated.txt", ["Packagist"], {}],
  ["cran-versions.txt", ["CRAN"], {}],
  ["cran-versions-generated.txt", ["CRAN"], {}],
  ["pub-versions.txt", ["Pub"], PUB],
  ["hackage-versions.txt", ["Hackage"], {}],
];

/** What is wrong with one line ("" when it passes): names the line, so a grouped failure still points at it. */
function check(file: string, ecosystem: string, deviations: Record<string, Deviation>, v: Vector): string {
  const scheme = versioningFor(ecosystem);
  if (!scheme) return `no scheme for ${ecosystem}`;
  const deviation = deviations[v.text];
  const want = deviation?.op ?? v.op;
  const forward = opOf(scheme.compare(v.a, v.b));
  const backward = opOf(scheme.compare(v.b, v.a));
  const problems: string[] = [];
  if (forward !== want || backward !== INVERSE[want])
    problems.push(`got ${forward} (reversed ${backward}), want ${want}`);
  for (const x of [v.a, v.b]) {
    const valid = !deviation?.invalid?.includes(x);
    if (scheme.isValid(x) !== valid) problems.push(`isValid(${x}) should be ${valid}`);
  }
  return problems.length === 0 ? "" : `${file}:${v.line}: ${v.text} -> ${problems.join("; ")}`;
}

// Hand-written files get one test per line; the generated ones (~14k lines each, one test per line
// costs ~30 s of vitest bookkeeping) are checked in blocks of lines whose failures list every line.
const BLOCK = 1000;

for (const [file, ecosystems, deviations] of FILES) {
  const vectors = readVectors(file);
  for (const ecosystem of ecosystems) {
    describe(`${file} as ${ecosystem}`, () => {
      if (!file.endsWith("-generated.txt")) {
        it.each(vectors)("line $line: $text", (v) => {
          expect(check(file, ecosystem, deviations, v)).toBe("");
        });
        return;
      }
      const blocks: Vector[][] = [];
      for (let i = 0; i < vectors.length; i += BLOCK) blocks.push(vectors.slice(i, i + BLOCK));
      it.each(blocks.map((b) => ({ first: b[0]!.line, last: b[b.length - 1]!.line, block: b })))(
        "lines $first-$last",
        ({ block }) => {
          const failures = block.map((v) => check(file, ecosystem, deviations, v)).filter((f) => f !== "");
          expect(failures).toEqual([]);
        },
      );
    });
  }
}

describe("deviations", () => {
  it.each(FILES.filter(([, , d]) => Object.keys(d).length > 0))(
    "name only lines present in %s",
    (file, _e, d) => {
      const texts = new Set(readVectors(file).map((v) => v.text));
      expect(Object.keys(d).filter((t) => !texts.has(t))).toEqual([]);
    },
  );
});
