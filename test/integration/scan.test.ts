import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ECOSYSTEMS } from "../../shared/vulndb/osv-export-feed.js";
import { DEFAULT_FEEDS } from "../../shared/vulndb/db-update.js";
import { type CliResult, runCli } from "../support/cli.js";
import { buildDebianTestImage, type DebianTestImage, type DpkgPackage } from "../support/debian-image.js";
import { writeDockerConfig } from "../support/docker-config.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { type OsvExportServer, startOsvExportServer } from "./support/osv-export-server.js";
import {
  binariesOf,
  CVSS,
  debianRecord,
  dpkgCompare,
  nextRevision,
  osvExportZip,
  previousRevision,
  sourceOf,
} from "./support/osv-records.js";

// The parts of the JSON report contract (README) this suite reads.
interface Finding {
  id: string;
  aliases: string[];
  package: { name: string; version: string; ecosystem: string; purl: string };
  fixedVersion?: string;
  severity: string;
  cvss?: { vector: string; score: number };
  layer: string;
  tier: "block" | "fix" | "report";
  remediation?: string;
  suppressed?: { kind: "accepted-risk" | "vex"; reason: string; expires?: string };
}
interface Report {
  image: { repository: string; digest: string };
  db: { version: string; updatedAt: string };
  findings: Finding[];
  verdict: { decision: "block" | "fix" | "pass"; reasons: string[] };
  warnings: { code: string; message: string }[];
}
interface DbStatus {
  version: string;
  ecosystems: { ecosystem: string; advisories: number; packages: number }[];
}
interface SarifLog {
  runs: {
    results: {
      ruleId: string;
      partialFingerprints: Record<string, string>;
      properties: { fixedVersion?: string };
      locations: { logicalLocations: { name: string }[] }[];
    }[];
  }[];
}

/** What a finding says, in the terms the advisories were written in. */
interface FindingRow {
  id: string;
  package: string;
  installedVersion: string;
  fixedVersion: string | undefined;
  severity: string;
  tier: string;
  layer: string;
}

const CLI_TIMEOUT = 300_000;

const byRow = (a: FindingRow, b: FindingRow) =>
  `${a.id} ${a.package}`.localeCompare(`${b.id} ${b.package}`, "en");

const rowsOf = (report: Report): FindingRow[] =>
  report.findings
    .map((f) => ({
      id: f.id,
      package: f.package.name,
      installedVersion: f.package.version,
      fixedVersion: f.fixedVersion,
      severity: f.severity,
      tier: f.tier,
      layer: f.layer,
    }))
    .sort(byRow);

function parseReport(r: CliResult, code = 0): Report {
  expect(r.code, r.stderr).toBe(code);
  return JSON.parse(r.stdout) as Report;
}

/** One advisory the feed publishes about one of the image's source packages, and what the scan must make of it. */
interface Advisory {
  record: Record<string, unknown>;
  /** the source package whose binaries it must be found on; absent when it must not be found at all */
  expect?: { id: string; source: string; severity: string; tier: string; fixedVersion?: string };
}

/**
 * Advisories written against the image's real source packages and versions (so a rebuilt image
 * with newer packages still tests the same things), one per behaviour the matcher must get right.
 */
function advisoriesFor(pkgs: readonly DpkgPackage[]) {
  const jq = sourceOf(pkgs, "libjq1"); // layer 2
  const onig = sourceOf(pkgs, "libonig5"); // layer 2
  const glibc = sourceOf(pkgs, "libc6"); // base layer
  const utilLinux = sourceOf(pkgs, "bsdutils"); // binary 1:2.38.1-…, source 2.38.1-… (epoch on the binary only)
  const zlib = sourceOf(pkgs, "zlib1g"); // epoch in the source version too
  const perl = sourceOf(pkgs, "perl");
  const tar = sourceOf(pkgs, "tar");
  const bash = sourceOf(pkgs, "bash"); // binNMU: binary 5.2.15-2+b13, source 5.2.15-2
  const libcap2 = sourceOf(pkgs, "libcap2"); // epoch and binNMU: binary 1:2.66-4+deb12u3+b1
  const jqFix = nextRevision(jq.version);
  const fixed = (v: string) => [{ introduced: "0" }, { fixed: v }];

  const advisories: Advisory[] = [
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1001",
        source: jq.name,
        upstream: ["CVE-2099-1001"],
        cvss: CVSS.critical,
        events: fixed(jqFix),
      }),
      expect: {
        id: "CVE-2099-1001",
        source: jq.name,
        severity: "critical",
        tier: "block",
        fixedVersion: jqFix,
      },
    },
    // The Debian Security Advisory for the same CVE: one finding, with both ids as aliases.
    {
      record: debianRecord({
        id: "DSA-9001-1",
        source: jq.name,
        aliases: ["CVE-2099-1001"],
        events: fixed(jqFix),
      }),
    },
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1002",
        source: onig.name,
        cvss: CVSS.medium,
        events: fixed(nextRevision(onig.version)),
      }),
      expect: {
        id: "CVE-2099-1002",
        source: onig.name,
        severity: "medium",
        tier: "fix",
        fixedVersion: nextRevision(onig.version),
      },
    },
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1003",
        source: glibc.name,
        cvss: CVSS.high,
        events: fixed(nextRevision(glibc.version)),
      }),
      expect: {
        id: "CVE-2099-1003",
        source: glibc.name,
        severity: "high",
        tier: "block",
        fixedVersion: nextRevision(glibc.version),
      },
    },
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1004",
        source: utilLinux.name,
        cvss: CVSS.medium,
        events: fixed(nextRevision(utilLinux.version)),
      }),
      expect: {
        id: "CVE-2099-1004",
        source: utilLinux.name,
        severity: "medium",
        tier: "fix",
        fixedVersion: nextRevision(utilLinux.version),
      },
    },
    // No fix yet: reported, never gating, whatever the severity.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1005",
        source: zlib.name,
        cvss: CVSS.high,
        events: [{ introduced: "0" }],
      }),
      expect: { id: "CVE-2099-1005", source: zlib.name, severity: "high", tier: "report" },
    },
    // Fixed below the installed version: not affected.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1006",
        source: perl.name,
        cvss: CVSS.critical,
        events: fixed(previousRevision(perl.version)),
      }),
    },
    // Withdrawn: ignored.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1007",
        source: tar.name,
        cvss: CVSS.critical,
        events: fixed(nextRevision(tar.version)),
        withdrawn: "2025-01-20T00:00:00Z",
      }),
    },
    // tzdata was purged in layer 3: every version affected, and still not found.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1008",
        source: "tzdata",
        cvss: CVSS.critical,
        events: [{ introduced: "0" }],
      }),
    },
    // Last affected at the source version: the binNMU binary (…+b13) sorts above it, the source does not.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1009",
        source: bash.name,
        events: [{ introduced: "0" }, { last_affected: bash.version }],
      }),
      expect: { id: "CVE-2099-1009", source: bash.name, severity: "unknown", tier: "report" },
    },
    // An explicit versions list naming the source version only (epoch + binNMU binary), rated by Debian.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1010",
        source: libcap2.name,
        urgency: "low",
        versions: [libcap2.version],
      }),
      expect: { id: "CVE-2099-1010", source: libcap2.name, severity: "low", tier: "report" },
    },
    // Another release's advisory (Debian:11) does not apply to a Debian 12 image.
    {
      record: debianRecord({
        id: "DEBIAN-CVE-2099-1011",
        source: glibc.name,
        ecosystem: "Debian:11",
        cvss: CVSS.critical,
        events: [{ introduced: "0" }],
      }),
    },
  ];
  // Fails the OSV schema (no `modified`): skipped and counted, the rest imported.
  const invalid = {
    id: "DEBIAN-CVE-2099-1099",
    affected: [{ package: { ecosystem: "Debian:12", name: jq.name } }],
  };
  return { advisories, invalid, sources: { jq, onig, glibc, utilLinux, zlib, perl, bash, libcap2 } };
}

describe("portcullis scan of a real Debian bookworm image against a loopback OSV export feed", () => {
  let img: DebianTestImage;
  let scenario: ReturnType<typeof advisoriesFor>;
  let expected: FindingRow[];
  let feed: OsvExportServer;
  let home: string;
  let dockerConfig: string;
  /** the policy file every scan names, so a stray ./portcullis.yaml cannot change what is tested */
  let defaultPolicy: string;
  /** the cache dir of the first scan: its DB and layer reports are reused by later scans */
  let cacheDir: string;
  let first: CliResult;
  let firstReport: Report;

  const env = () => ({
    DOCKER_CONFIG: dockerConfig,
    HOME: home,
    XDG_CACHE_HOME: path.join(home, ".cache"),
    // the loopback feed publishes OSV exports and CVE records; NVD and the Debian tracker have their own test
    PORTCULLIS_DB_ECOSYSTEMS: DEFAULT_FEEDS.filter((f) => f !== "NVD" && f !== "Debian-tracker").join(","),
  });
  const cli = (args: string[]) => runCli(args, { env: env(), timeoutMs: CLI_TIMEOUT });
  const scan = (args: string[], cache = cacheDir) =>
    // the loopback feed serves OSV exports only: MSRC stays out, so nothing reaches a public address
    cli([
      "scan",
      ...args,
      "--cache-dir",
      cache,
      "--db-url",
      feed.url,
      "--cve-url",
      `${feed.url}/CVE/all.zip`,
      "--no-msrc",
      ...withDefaultPolicy(args),
    ]);
  const withDefaultPolicy = (args: string[]) =>
    args.includes("--policy") ? [] : ["--policy", defaultPolicy];
  const freshDir = (prefix: string) => mkdtemp(path.join(home, prefix));
  const writeJson = async (name: string, value: unknown) => {
    const file = path.join(await freshDir("doc-"), name);
    await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
    return file;
  };

  beforeAll(async () => {
    img = await buildDebianTestImage();
    scenario = advisoriesFor(img.packages);
    expected = scenario.advisories
      .flatMap(({ expect: e }) =>
        e === undefined
          ? []
          : binariesOf(img.packages, e.source).map((p) => ({
              id: e.id,
              package: p.name,
              installedVersion: p.version,
              fixedVersion: e.fixedVersion,
              severity: e.severity,
              tier: e.tier,
              layer: img.layers[p.layerIndex]!.digest,
            })),
      )
      .sort(byRow);

    feed = await startOsvExportServer();
    for (const ecosystem of DEFAULT_ECOSYSTEMS) feed.publish(ecosystem, osvExportZip([]));
    // the CVE records' feed, served from the same loopback server (no CVE record: nothing to rate)
    feed.publish("CVE", osvExportZip([]));
    feed.publish("Debian", osvExportZip([...scenario.advisories.map((a) => a.record), scenario.invalid]));

    home = await mkdtemp(path.join(os.tmpdir(), "portcullis-scan-it-"));
    dockerConfig = await writeDockerConfig();
    defaultPolicy = path.join(home, "default-policy.yaml");
    await writeFile(defaultPolicy, "# the built-in default rules\nversion: 1\n");
    cacheDir = await freshDir("cache-");
    first = await scan([img.ociAmd64Ref, "--format", "json"]);
    firstReport = parseReport(first);
  }, 900_000);

  afterAll(async () => {
    await feed?.stop();
    if (home) await rm(home, { recursive: true, force: true });
    if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
  });

  describe("the advisories", () => {
    it("stand on premises Debian's own dpkg --compare-versions agrees with", async () => {
      const { jq, glibc, utilLinux, perl, bash, libcap2 } = scenario.sources;
      const bsdutils = img.packages.find((p) => p.name === "bsdutils")!;
      const bashBinary = img.packages.find((p) => p.name === "bash")!;
      const libcap2Binary = img.packages.find((p) => p.name === "libcap2")!;
      expect(await dpkgCompare(nextRevision(jq.version), "gt", jq.version)).toBe(true);
      expect(await dpkgCompare(nextRevision(glibc.version), "gt", glibc.version)).toBe(true);
      expect(await dpkgCompare(previousRevision(perl.version), "lt", perl.version)).toBe(true);
      // matched by binary version, the epoch would put bsdutils above the fix: only the source version finds it
      expect(await dpkgCompare(bsdutils.version, "gt", nextRevision(utilLinux.version))).toBe(true);
      expect(await dpkgCompare(nextRevision(utilLinux.version), "gt", utilLinux.version)).toBe(true);
      // the binNMU binary is past last_affected; its source version is not
      expect(await dpkgCompare(bashBinary.version, "gt", bash.version)).toBe(true);
      expect(bashBinary.version).toMatch(/\+b\d+$/);
      expect(libcap2Binary.version).not.toBe(libcap2.version);
      expect(img.packages.some((p) => p.sourceName === "tzdata")).toBe(false);
      expect(img.removedPackages).toContain("tzdata");
    });
  });

  describe("the first scan", () => {
    it("downloads the DB itself, says so on stderr, and counts the skipped and withdrawn records", () => {
      expect(first.stderr).toMatch(/Vulnerability DB not found; downloading it/);
      // every advisory but the withdrawn one is a record; the schema-failing one is skipped
      const live = scenario.advisories.length - 1;
      expect(first.stderr).toContain(`Debian: ${live} records, 1 withdrawn, 1 skipped`);
      expect(firstReport.db.version).toMatch(/\S/);
    });

    it("fetches each ecosystem's all.zip and the CVE records once, unconditionally", () => {
      expect(feed.requests.map((r) => [r.path, r.status, r.ifNoneMatch, r.ifModifiedSince])).toEqual(
        [...DEFAULT_ECOSYSTEMS, "CVE"].map((e) => [
          `/${encodeURIComponent(e)}/all.zip`,
          200,
          undefined,
          undefined,
        ]),
      );
    });

    it("reports exactly the advisories that affect the image's packages, with their fix, severity, tier and layer", () => {
      expect(rowsOf(firstReport)).toEqual(expected);
    });

    it("merges the DEBIAN-CVE record and the DSA aliasing it into one finding per package", () => {
      const jqFindings = firstReport.findings.filter((f) => f.package.name === "jq");
      expect(jqFindings).toHaveLength(1);
      expect(jqFindings[0]).toMatchObject({
        id: "CVE-2099-1001",
        aliases: ["DEBIAN-CVE-2099-1001", "DSA-9001-1"],
        cvss: { vector: CVSS.critical, score: 9.8 },
      });
    });

    it("matches every util-linux binary by source version, ignoring the binary epoch (bsdutils 1:…)", () => {
      const hit = firstReport.findings.filter((f) => f.id === "CVE-2099-1004").map((f) => f.package.name);
      expect(hit).toContain("bsdutils");
      expect(hit.sort()).toEqual(
        binariesOf(img.packages, "util-linux")
          .map((p) => p.name)
          .sort(),
      );
    });

    it("matches bash by its source version, not the binNMU version (5.2.15-2+b13 from 5.2.15-2)", () => {
      const bash = firstReport.findings.find((f) => f.id === "CVE-2099-1009");
      expect(bash?.package).toMatchObject({
        name: "bash",
        version: img.packages.find((p) => p.name === "bash")!.version,
      });
      expect(firstReport.findings.find((f) => f.id === "CVE-2099-1010")?.package.name).toBe("libcap2");
    });

    it("ignores withdrawn records, fixes below the installed version, other releases and removed packages", () => {
      const ids = firstReport.findings.flatMap((f) => [f.id, ...f.aliases]);
      for (const absent of ["1006", "1007", "1008", "1011", "1099"])
        expect(ids).not.toContain(`CVE-2099-${absent}`);
      expect(firstReport.findings.map((f) => f.package.name)).not.toContain("tzdata");
      expect(firstReport.findings.map((f) => f.package.name)).not.toContain("perl");
      expect(firstReport.findings.map((f) => f.package.name)).not.toContain("tar");
    });

    it("gives packages from the added layer an apt-get --only-upgrade line and base-layer packages a base-image rebuild", () => {
      const remediation = new Map(
        firstReport.findings.map((f) => [`${f.id} ${f.package.name}`, f.remediation]),
      );
      expect(remediation.get("CVE-2099-1001 libjq1")).toMatch(
        /^apt-get update && apt-get install -y --only-upgrade libjq1\b/,
      );
      expect(remediation.get("CVE-2099-1001 libjq1")).toContain(nextRevision(scenario.sources.jq.version));
      expect(remediation.get("CVE-2099-1002 libonig5")).toMatch(/apt-get .*--only-upgrade libonig5\b/);
      expect(remediation.get("CVE-2099-1003 libc6")).toMatch(/rebuild on a newer base image/i);
      expect(remediation.get("CVE-2099-1004 bsdutils")).toMatch(/rebuild on a newer base image/i);
      // nothing to do yet for a vulnerability without a fix
      expect(remediation.get("CVE-2099-1005 zlib1g")).toBeUndefined();
    });

    it("blocks, naming the block-tier vulnerabilities, and exits 0 when no --exit-code is asked for", () => {
      expect(first.code).toBe(0);
      expect(firstReport.verdict.decision).toBe("block");
      const block = firstReport.verdict.reasons.find((r) => r.startsWith("block:"));
      expect(block).toContain("CVE-2099-1001");
      expect(block).toContain("CVE-2099-1003");
      const fix = firstReport.verdict.reasons.find((r) => r.startsWith("fix:"));
      expect(fix).toContain("CVE-2099-1002");
      expect(fix).toContain("CVE-2099-1004");
    });
  });

  describe("a second scan", () => {
    it(
      "uses the DB it downloaded without asking the feed again while it is fresh",
      async () => {
        const before = feed.requests.length;
        const again = parseReport(await scan([img.ociAmd64Ref, "--format", "json"]));
        expect(feed.requests.length).toBe(before);
        expect(again.db.version).toBe(firstReport.db.version);
        expect(rowsOf(again)).toEqual(expected);
      },
      CLI_TIMEOUT,
    );

    it(
      "and `db update` only asks conditionally: every export answers 304 and the DB stays as it is",
      async () => {
        const before = feed.requests.length;
        const r = await cli([
          "db",
          "update",
          "--db-url",
          feed.url,
          "--cve-url",
          `${feed.url}/CVE/all.zip`,
          "--no-msrc",
          "--cache-dir",
          cacheDir,
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`up to date: vulnerability DB ${firstReport.db.version}`);
        const asked = feed.requests.slice(before);
        expect(asked).toHaveLength(DEFAULT_ECOSYSTEMS.length + 1);
        for (const req of asked) {
          expect(req.status).toBe(304);
          expect(req.ifNoneMatch ?? req.ifModifiedSince).toBeDefined();
        }
      },
      CLI_TIMEOUT,
    );
  });

  describe("verdict gating and output formats", () => {
    it(
      "--exit-code 3 exits 3 on a block verdict, and the table groups the findings by tier",
      async () => {
        const r = await scan([img.ociAmd64Ref, "--format", "table", "--exit-code", "3"]);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stdout).toMatch(/Verdict\s+BLOCK/);
        const headings = ["BLOCK —", "FIX —", "REPORT —"].map((h) => r.stdout.indexOf(h));
        for (const at of headings) expect(at).toBeGreaterThan(0);
        expect([...headings].sort((a, b) => a - b)).toEqual(headings);
        // each finding sits under its tier's heading
        const section = (from: string, to?: string) =>
          r.stdout.slice(r.stdout.indexOf(from), to ? r.stdout.indexOf(to) : undefined);
        expect(section("BLOCK —", "FIX —")).toMatch(/libjq1\s.*CVE-2099-1001/);
        expect(section("FIX —", "REPORT —")).toMatch(/libonig5\s.*CVE-2099-1002/);
        expect(section("REPORT —")).toMatch(/zlib1g\s.*CVE-2099-1005/);
        expect(r.stdout).toContain("apt-get update && apt-get install -y --only-upgrade");
      },
      CLI_TIMEOUT,
    );

    it(
      "--exit-code 3 exits 0 under a policy whose verdict is pass",
      async () => {
        const policy = path.join(await freshDir("policy-"), "portcullis.yaml");
        await writeFile(policy, "version: 1\n# nothing gates: every finding is reported\nrules: []\n");
        const report = parseReport(
          await scan([img.ociAmd64Ref, "--format", "json", "--exit-code", "3", "--policy", policy]),
        );
        expect(report.verdict.decision).toBe("pass");
        expect(new Set(report.findings.map((f) => f.tier))).toEqual(new Set(["report"]));
      },
      CLI_TIMEOUT,
    );

    it(
      "--format sarif fingerprints each vulnerability × package × repository, whatever the DB says about it",
      async () => {
        const r = await scan([img.ociAmd64Ref, "--format", "sarif"]);
        expect(r.code, r.stderr).toBe(0);
        const sarif = JSON.parse(r.stdout) as SarifLog;
        // the configuration audit's results (PCS-…) have their own fingerprint; these are the vulnerabilities
        const results = sarif.runs[0]!.results.filter((x) => !x.ruleId.startsWith("PCS-"));
        expect(results.map((x) => `${x.ruleId} ${x.locations[0]!.logicalLocations[0]!.name}`).sort()).toEqual(
          expected.map((e) => `${e.id} ${e.package}`).sort(),
        );
        const fingerprints = results.map((x) => x.partialFingerprints["vulnerabilityPackageRepository/v1"]);
        for (const fp of fingerprints) expect(fp).toMatch(/^[0-9a-f]{64}$/);
        expect(new Set(fingerprints).size).toBe(results.length);

        // A DB that disagrees about the fix: the alerts keep their fingerprints.
        const other = await freshDir("cache-other-db-");
        const { jq } = scenario.sources;
        const laterFix = nextRevision(nextRevision(jq.version));
        const zip = path.join(await freshDir("import-"), "debian.zip");
        await writeFile(
          zip,
          osvExportZip([
            debianRecord({
              id: "DEBIAN-CVE-2099-1001",
              source: jq.name,
              cvss: CVSS.high,
              events: [{ introduced: "0" }, { fixed: laterFix }],
            }),
          ]),
        );
        const imported = await cli(["db", "import", zip, "--cache-dir", other]);
        expect(imported.code, imported.stderr).toBe(0);
        const r2 = await cli([
          "scan",
          img.ociAmd64Ref,
          "--format",
          "sarif",
          "--offline",
          "--cache-dir",
          other,
          "--policy",
          defaultPolicy,
        ]);
        expect(r2.code, r2.stderr).toBe(0);
        const results2 = (JSON.parse(r2.stdout) as SarifLog).runs[0]!.results;
        const jqResult = (rs: typeof results) =>
          rs.find(
            (x) => x.ruleId === "CVE-2099-1001" && x.locations[0]!.logicalLocations[0]!.name === "libjq1",
          )!;
        expect(jqResult(results2).properties.fixedVersion).toBe(laterFix);
        expect(jqResult(results).properties.fixedVersion).toBe(nextRevision(jq.version));
        expect(jqResult(results2).partialFingerprints).toEqual(jqResult(results).partialFingerprints);
        // the documented recipe: sha256 of [vulnerability id, package name, image repository]
        expect(jqResult(results).partialFingerprints["vulnerabilityPackageRepository/v1"]).toBe(
          createHash("sha256")
            .update(JSON.stringify(["CVE-2099-1001", "libjq1", firstReport.image.repository]))
            .digest("hex"),
        );
      },
      CLI_TIMEOUT,
    );

    it(
      "--ignore-unfixed leaves out the vulnerabilities without a fix, and says how many",
      async () => {
        const report = parseReport(await scan([img.ociAmd64Ref, "--format", "json", "--ignore-unfixed"]));
        const unfixed = expected.filter((e) => e.fixedVersion === undefined);
        expect(unfixed.length).toBeGreaterThan(0);
        expect(rowsOf(report)).toEqual(expected.filter((e) => e.fixedVersion !== undefined));
        expect(report.verdict.reasons).toContain(`left out: ${unfixed.length} without a fix (ignoreUnfixed)`);
      },
      CLI_TIMEOUT,
    );

    it(
      "--severity medium,low keeps only those severities, and the verdict follows what is kept",
      async () => {
        const report = parseReport(
          await scan([img.ociAmd64Ref, "--format", "json", "--severity", "medium,low"]),
        );
        expect(rowsOf(report)).toEqual(
          expected.filter((e) => e.severity === "medium" || e.severity === "low"),
        );
        expect(report.verdict.decision).toBe("fix");
      },
      CLI_TIMEOUT,
    );

    it(
      "an accepted risk in --policy suppresses a finding (named by an alias); an expired one does not and is reported",
      async () => {
        const policy = path.join(await freshDir("policy-"), "portcullis.yaml");
        await writeFile(
          policy,
          [
            "version: 1",
            "acceptedRisks:",
            "  - id: DSA-9001-1",
            "    package: libjq1",
            "    reason: jq is only run on our own config files",
            "    expires: 2999-12-31",
            "  - id: CVE-2099-1003",
            "    reason: waiting for the next base image",
            "    expires: 2020-01-31",
            "",
          ].join("\n"),
        );
        const report = parseReport(await scan([img.ociAmd64Ref, "--format", "json", "--policy", policy]));
        const find = (id: string, pkg: string) =>
          report.findings.find((f) => f.id === id && f.package.name === pkg)!;
        expect(find("CVE-2099-1001", "libjq1").suppressed).toEqual({
          kind: "accepted-risk",
          reason: "jq is only run on our own config files",
          expires: "2999-12-31",
        });
        // the risk names one package: the jq binary's finding still counts
        expect(find("CVE-2099-1001", "jq").suppressed).toBeUndefined();
        expect(find("CVE-2099-1003", "libc6").suppressed).toBeUndefined();
        expect(report.verdict.decision).toBe("block");
        expect(report.verdict.reasons).toContain("accepted risk for CVE-2099-1003 expired 2020-01-31");
        expect(report.verdict.reasons).toContain("suppressed: 1 by accepted risks");
        expect(report.warnings.map((w) => w.code)).toContain("accepted-risk-expired");
      },
      CLI_TIMEOUT,
    );

    it(
      "an OpenVEX not_affected statement suppresses the finding with its justification shown",
      async () => {
        const vex = await writeJson("libonig.openvex.json", {
          "@context": "https://openvex.dev/ns/v0.2.0",
          "@id": "https://example.com/vex/portcullis-it-1",
          author: "portcullis integration suite",
          timestamp: "2025-02-01T00:00:00Z",
          version: 1,
          statements: [
            {
              vulnerability: { name: "CVE-2099-1002" },
              products: [{ "@id": "pkg:deb/debian/libonig5" }],
              status: "not_affected",
              justification: "vulnerable_code_not_in_execute_path",
              impact_statement: "jq never compiles regular expressions from untrusted input here",
            },
          ],
        });
        const report = parseReport(await scan([img.ociAmd64Ref, "--format", "json", "--vex", vex]));
        const onig = report.findings.find((f) => f.id === "CVE-2099-1002")!;
        expect(onig.suppressed?.kind).toBe("vex");
        expect(onig.suppressed?.reason).toContain("vulnerable_code_not_in_execute_path");
        expect(onig.suppressed?.reason).toContain("untrusted input");
        expect(report.verdict.reasons).toContain("suppressed: 1 by VEX statements");
        // util-linux's medium is still at fix tier, so the fix reason no longer names the suppressed one
        expect(report.verdict.reasons.find((r) => r.startsWith("fix:"))).not.toContain("CVE-2099-1002");
      },
      CLI_TIMEOUT,
    );

    it(
      "--offline with no DB fails with exit 1 and a one-line reason",
      async () => {
        const empty = await freshDir("cache-empty-");
        const r = await scan([img.ociAmd64Ref, "--format", "json", "--offline"], empty);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(/no vulnerability DB.*--offline/);
      },
      CLI_TIMEOUT,
    );
  });

  describe("from the Distribution registry (anonymous)", () => {
    let reg: RegistryServer;
    let ref: string;
    beforeAll(async () => {
      reg = await startRegistry({ auth: "anonymous" });
      ref = `${reg.host}/portcullis/debian:bookworm`;
      await pushImage(img.ociAmd64Ref, ref);
    }, 300_000);
    afterAll(async () => {
      await reg?.stop();
    });

    it(
      "finds the same vulnerabilities in the same layers as the OCI layout scan",
      async () => {
        // a fresh cache: the layers are pulled and analysed again, not read from the first scan's cache
        const fresh = await freshDir("cache-registry-");
        const r = await scan([ref, "--format", "json", "--insecure-registry", reg.host], fresh);
        const report = parseReport(r);
        expect(report.image.digest).toBe(firstReport.image.digest);
        expect(report.image.repository).toBe("portcullis/debian");
        expect(rowsOf(report)).toEqual(rowsOf(firstReport));
        expect(report.verdict.decision).toBe("block");
      },
      CLI_TIMEOUT,
    );
  });

  describe("hostile feeds", () => {
    let hostile: OsvExportServer;
    let cache: string;
    let goodZip: Buffer;
    const status = async () => {
      const r = await cli(["db", "status", "--format", "json", "--cache-dir", cache]);
      expect(r.code, r.stderr).toBe(0);
      const { version, ecosystems } = JSON.parse(r.stdout) as DbStatus;
      return { version, ecosystems };
    };
    const update = () =>
      cli(["db", "update", "--db-url", hostile.url, "--ecosystems", "Debian", "--cache-dir", cache]);

    beforeAll(async () => {
      hostile = await startOsvExportServer();
      goodZip = osvExportZip(scenario.advisories.map((a) => a.record));
      hostile.publish("Debian", goodZip);
      cache = await freshDir("cache-hostile-");
      const r = await update();
      expect(r.code, r.stderr).toBe(0);
    }, CLI_TIMEOUT);
    afterAll(async () => {
      await hostile?.stop();
    });

    it.each([
      {
        name: "a corrupt zip",
        publish: () => hostile.publish("Debian", Buffer.from(`PK\u0003\u0004${"garbage ".repeat(512)}`)),
        reason: /not a readable zip|corrupt/i,
      },
      {
        name: "a zip whose central directory is cut off",
        publish: () => hostile.publish("Debian", goodZip.subarray(0, goodZip.length - 40)),
        reason: /not a readable zip|corrupt/i,
      },
      {
        name: "a download the server cuts off mid-body",
        publish: () => hostile.publish("Debian", goodZip, "cut-mid-body"),
        reason: /did not complete|terminated|socket|closed/i,
      },
    ])(
      "$name: `db update` fails with a one-line reason and the previous DB stays in use",
      async ({ publish, reason }) => {
        const before = await status();
        publish();
        const r = await update();
        expect(r.code).toBe(1);
        expect(r.stderr.trim().split("\n").at(-1)).toMatch(reason);
        expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^portcullis: /);
        expect(await status()).toEqual(before);
        // and scans keep using it
        const report = parseReport(
          await cli([
            "scan",
            img.ociAmd64Ref,
            "--format",
            "json",
            "--offline",
            "--cache-dir",
            cache,
            "--policy",
            defaultPolicy,
          ]),
        );
        expect(report.db.version).toBe(before.version);
        expect(report.findings.map((f) => f.id)).toContain("CVE-2099-1001");
      },
      CLI_TIMEOUT,
    );

    it(
      "recovers once the feed serves a good export again",
      async () => {
        const before = await status();
        const records = [
          ...scenario.advisories.map((a) => a.record),
          debianRecord({
            id: "DEBIAN-CVE-2099-1012",
            source: scenario.sources.perl.name,
            cvss: CVSS.high,
            events: [{ introduced: "0" }, { fixed: nextRevision(scenario.sources.perl.version) }],
          }),
        ];
        hostile.publish("Debian", osvExportZip(records));
        const r = await update();
        expect(r.code, r.stderr).toBe(0);
        const after = await status();
        expect(after.version).not.toBe(before.version);
        const advisories = (s: typeof before) =>
          s.ecosystems.find((e) => e.ecosystem === "Debian:12")?.advisories;
        expect(advisories(after)).toBe(advisories(before)! + 1);
      },
      CLI_TIMEOUT,
    );
  });
});
