import { describe, expect, it } from "vitest";
import { versioningFor, versionings } from "../../../shared/vulndb/versioning/index.js";

/** Valid versions per scheme, used for the order laws. */
const SAMPLES: Record<string, string[]> = {
  dpkg: [
    "1.0",
    "1:0.9",
    "1.0-1",
    "1.0~rc1-1",
    "2.38.1-5+deb12u3",
    "5.2.15-2+b13",
    "0.0.0",
    "1.0+dfsg-1ubuntu0.1",
  ],
  apk: [
    "1.0",
    "1.0-r1",
    "1.0_rc1",
    "1.0_p1-r2",
    "1.2.3a",
    "1.2.3_git20200101",
    "1.2.3~abc1-r0",
    "6.0.2p1-r0",
  ],
  rpm: ["1.0-1.el9", "1:1.0-1", "1.0~rc1-1", "1.0^git1-1", "3.10.0-229.el7", "2.4.21-9.0.1.EL", "1.0"],
  semver: [
    "1.0.0",
    "v1.0.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0+build",
    "0.0.0-20191109021931-daa7c04131f5",
  ],
  pep440: ["1.0", "1.0a1", "1.0.post1", "1.0.dev0", "1!0.5", "1.0+local.1", "2.0rc1", "0.1-legacy"],
  maven: ["1.0", "1.0-SNAPSHOT", "1.0-alpha-1", "1.0.RELEASE", "1.0-sp1", "2.0.0.Final", "1-1"],
  nuget: ["1.0.0", "1.0", "1.0.0.1", "1.0.0-beta", "1.0.0-BETA.2", "1.0.0+meta", "2.0.0-rc.1"],
  rubygems: ["1.0", "1.0.0", "1.0.a", "1.0.pre.1", "1.0-1", "2.0.0.rc1", "0.9"],
  windows: ["10.0.26100.4061", "26100.3775", "10.0.17763.3406", "6.3.9600.1", "17763"],
  packagist: [
    "1.0.0",
    "v1.0.0",
    "1.0.0-beta2",
    "1.0.0-RC1",
    "1.0-dev",
    "2.0.0-alpha.1",
    "1.0.0-patch1",
    "dev-main",
  ],
  cran: ["1.0-0", "0.9.12", "1.0.1", "0.1-4", "2.0-12", "1.8.0"],
  pub: ["1.0.0", "1.0.0-dev.1", "1.0.0+1", "1.0.0-beta.2+build.7", "2.0.0-nullsafety.0", "0.1.2"],
  hackage: ["0", "1.0", "1.0.0", "0.11.3.0", "2.4.1.2", "1.0.1"],
};

/** Never a version in any scheme. */
const GARBAGE = ["", " ", "not a version", "1.0 2.0", "\u0000", "1.0\u0000"];

/** Strings built to make naive parsers go quadratic, recurse deeply or overflow (~100 KB each). */
const HOSTILE = [
  "1.".repeat(50_000),
  "1-".repeat(50_000),
  "a1".repeat(50_000),
  "~".repeat(100_000),
  "^".repeat(100_000),
  "9".repeat(100_000),
  "0".repeat(100_000),
  `1${"-0".repeat(40_000)}-1`,
  `1${"_p1".repeat(30_000)}`,
  ":".repeat(100_000),
  "+".repeat(100_000),
];

/** A megabyte of segments: deep nesting for Maven, a million tokens for everyone. */
const MEGABYTE = ["1.".repeat(500_000), "1-".repeat(500_000)];

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const negate = (n: number) => (n === 0 ? 0 : -n);

describe.each([...versionings.values()])("versioning module $id", (scheme) => {
  const samples = [...(SAMPLES[scheme.id] ?? []), ...GARBAGE];

  it("has samples in this test", () => {
    expect(SAMPLES[scheme.id]?.length).toBeGreaterThan(3);
  });

  it("is what versioningFor returns for each of its ecosystems, with or without a release suffix", () => {
    expect(scheme.ecosystems.length).toBeGreaterThan(0);
    for (const e of scheme.ecosystems) {
      expect(versioningFor(e)).toBe(scheme);
      expect(versioningFor(`${e}:1`)).toBe(scheme);
    }
  });

  it("accepts its sample versions and refuses garbage", () => {
    for (const v of SAMPLES[scheme.id] ?? []) expect(scheme.isValid(v), v).toBe(true);
    for (const g of GARBAGE) expect(scheme.isValid(g), JSON.stringify(g)).toBe(false);
  });

  it("is reflexive and antisymmetric, garbage included, and never throws", () => {
    for (const a of samples) {
      expect(scheme.compare(a, a), JSON.stringify(a)).toBe(0);
      for (const b of samples) {
        expect(sign(scheme.compare(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
          negate(sign(scheme.compare(b, a))),
        );
      }
    }
  });

  it("is transitive over its valid samples", () => {
    const sorted = [...(SAMPLES[scheme.id] ?? [])].sort(scheme.compare);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        expect(scheme.compare(sorted[i]!, sorted[j]!), `${sorted[i]} vs ${sorted[j]}`).toBeLessThanOrEqual(0);
      }
    }
  });

  // a quadratic parser would not finish these within the test timeout; linear ones take well under a second
  it("answers consistently on long hostile versions", () => {
    for (const h of HOSTILE) {
      scheme.isValid(h);
      expect(scheme.compare(h, h)).toBe(0);
      expect(sign(scheme.compare(h, `${h}1`))).toBe(negate(sign(scheme.compare(`${h}1`, h))));
      scheme.compare(h, "1.0");
    }
  });

  it("compares megabyte-long versions without blowing the stack", () => {
    for (const h of MEGABYTE) {
      scheme.isValid(h);
      expect(sign(scheme.compare(h, `${h}9`))).toBe(negate(sign(scheme.compare(`${h}9`, h))));
    }
  });
});

describe("versioningFor", () => {
  it.each([
    ["Debian:12", "dpkg"],
    ["Ubuntu:22.04:LTS", "dpkg"],
    ["Alpine:v3.20", "apk"],
    ["Red Hat:enterprise_linux:9", "rpm"],
    ["Rocky Linux:9", "rpm"],
    ["AlmaLinux:9", "rpm"],
    ["SUSE:Linux Enterprise Server 15 SP5", "rpm"],
    ["openSUSE:Leap 15.5", "rpm"],
    ["Mariner:2.0", "rpm"],
    ["Azure Linux:3", "rpm"],
    ["npm", "semver"],
    ["Go", "semver"],
    ["crates.io", "semver"],
    ["Hex", "semver"],
    ["PyPI", "pep440"],
    ["Maven", "maven"],
    ["NuGet", "nuget"],
    ["RubyGems", "rubygems"],
    ["Windows", "windows"],
    ["Packagist", "packagist"],
    ["CRAN", "cran"],
    ["Pub", "pub"],
    ["Hackage", "hackage"],
  ])("maps %s to %s", (ecosystem, id) => {
    expect(versioningFor(ecosystem)?.id).toBe(id);
  });

  it("returns undefined for an ecosystem it has no scheme for", () => {
    expect(versioningFor("Nope")).toBeUndefined();
    expect(versioningFor("")).toBeUndefined();
  });
});

describe("Windows build numbers", () => {
  const windows = versioningFor("Windows")!;
  it.each([
    ["26100.3775", "<", "10.0.26100.4061"],
    ["10.0.26100.4061", "=", "26100.4061"],
    ["10.0.17763.3406", "<", "10.0.26100.1"],
    ["10.0.26100.999", "<", "10.0.26100.1000"],
    ["6.3.9600.20000", "<", "10.0.14393.1"],
    ["17763.1", "<", "17763.3406.1"],
  ])("%s %s %s", (a, op, b) => {
    const want = op === "<" ? -1 : op === ">" ? 1 : 0;
    expect(sign(windows.compare(a, b))).toBe(want);
    expect(sign(windows.compare(b, a))).toBe(negate(want));
  });
});
