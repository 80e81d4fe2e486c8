import { describe, expect, it } from "vitest";
import { FINGERPRINT_KEY, renderSarif, SarifLogSchema, sarifFingerprint } from "../../shared/report/sarif.js";
import { MATCHES, sampleReport } from "./report-fixture.js";

const fingerprints = (log: ReturnType<typeof renderSarif>) =>
  log.runs[0]!.results.map((r) => r.partialFingerprints[FINGERPRINT_KEY]);

describe("SARIF", () => {
  const { report } = sampleReport();
  const log = renderSarif([report], { toolVersion: "0.1.0" });

  it("has every field SARIF 2.1.0 and code-scanning uploads require", () => {
    expect(SarifLogSchema.parse(JSON.parse(JSON.stringify(log)))).toEqual(log);
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]?.tool.driver).toMatchObject({ name: "portcullis", version: "0.1.0" });
  });

  it("has one rule per vulnerability id, with help text, level and security-severity", () => {
    const rules = log.runs[0]!.tool.driver.rules;
    expect(rules.map((r) => r.id)).toEqual([...new Set(MATCHES.map((m) => m.id))].sort());
    const critical = rules.find((r) => r.id === "CVE-2024-0001")!;
    expect(critical.defaultConfiguration.level).toBe("error");
    expect(critical.properties["security-severity"]).toBe("9.8");
    expect(critical.help.text).toContain("Fixed in: 3.0.13-1~deb12u1");
    const medium = rules.find((r) => r.id === "CVE-2024-0003")!;
    expect(medium.defaultConfiguration.level).toBe("warning");
    expect(medium.properties["security-severity"]).toBe("5.5");
    expect(rules.find((r) => r.id === "CVE-2024-0004")?.defaultConfiguration.level).toBe("note");
    expect(rules.find((r) => r.id === "CVE-2024-0002")?.shortDescription.text).toBe(
      "CVE-2024-0002: PKCS12 parser NULL dereference",
    );
  });

  it("points every result at the image, never at a line of a file the user owns", () => {
    for (const r of log.runs[0]!.results) {
      expect(log.runs[0]!.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
      expect(r.locations[0]?.physicalLocation.artifactLocation.uri).toBe("registry.example.com/team-a/api");
      expect(r.locations[0]?.logicalLocations[0]?.fullyQualifiedName).toMatch(
        /^registry\.example\.com\/team-a\/api@sha256:9+\/pkg:deb\/debian\//,
      );
    }
  });

  it("names a local image (no registry) by its path, not as a network-path `//…` URI", () => {
    const local = sampleReport({
      ref: "oci:/work/images/app:1.4",
      registry: "",
      repository: "/work/images/app",
    }).report;
    const result = renderSarif([local]).runs[0]!.results[0]!;
    expect(result.locations[0]?.physicalLocation.artifactLocation.uri).toBe("/work/images/app");
    expect(result.locations[0]?.logicalLocations[0]?.fullyQualifiedName).toMatch(
      /^\/work\/images\/app@sha256:/,
    );
    expect(result.message.text).toContain(" in /work/images/app is affected by ");
  });

  it("says where each result's severity came from, when the finding records it", () => {
    const rated = structuredClone(report);
    rated.findings[0]!.severitySource = "distribution";
    const results = renderSarif([rated]).runs[0]!.results;
    expect(results.find((r) => r.ruleId === rated.findings[0]!.id)?.properties?.severitySource).toBe(
      "distribution",
    );
  });

  it("marks suppressed findings as accepted suppressions with their reason", () => {
    const glibc = log.runs[0]!.results.find((r) => r.ruleId === "CVE-2023-4911")!;
    expect(glibc.suppressions).toEqual([
      {
        kind: "external",
        status: "accepted",
        justification: "accepted-risk: setuid binaries removed (until 2030-01-01)",
      },
    ]);
  });

  it("fingerprints are stable across runs and independent of finding order", () => {
    const again = renderSarif([sampleReport({}, [...MATCHES].reverse()).report], { toolVersion: "0.1.0" });
    expect(fingerprints(again)).toEqual(fingerprints(log));
    expect(again).toEqual(log);
  });

  it("same id + package + repository → same fingerprint, whatever the version, tag or digest", () => {
    const rebuilt = sampleReport({ tags: ["1.5"], digest: `sha256:${"8".repeat(64)}` }, [
      { ...MATCHES[0]!, package: { ...MATCHES[0]!.package, version: "3.0.11-1~deb12u3" } },
    ]).report;
    const fp = renderSarif([rebuilt]).runs[0]!.results[0]!.partialFingerprints[FINGERPRINT_KEY];
    expect(fp).toBe(sarifFingerprint("CVE-2024-0001", "libssl3", "team-a/api"));
    expect(fingerprints(log)).toContain(fp);
  });

  it("a different repository → a different fingerprint", () => {
    expect(sarifFingerprint("CVE-2024-0001", "libssl3", "team-a/api")).not.toBe(
      sarifFingerprint("CVE-2024-0001", "libssl3", "team-b/api"),
    );
    const other = renderSarif([sampleReport({ repository: "team-b/api" }).report]);
    const shared = new Set(fingerprints(log));
    expect(fingerprints(other).some((f) => shared.has(f!))).toBe(false);
  });

  it("the fingerprint cannot be forged by moving text between its parts", () => {
    expect(sarifFingerprint("CVE-1", "ab", "c")).not.toBe(sarifFingerprint("CVE-1", "a", "bc"));
  });

  it("merges the same finding on two platforms of one image into one result with two locations", () => {
    const amd64 = sampleReport().report;
    const arm64 = sampleReport({
      digest: `sha256:${"7".repeat(64)}`,
      platform: { os: "linux", architecture: "arm64" },
    }).report;
    const merged = renderSarif([arm64, amd64]);
    expect(merged.runs[0]!.results).toHaveLength(log.runs[0]!.results.length);
    expect(merged.runs[0]!.results[0]!.locations).toHaveLength(2);
    expect(renderSarif([amd64, arm64])).toEqual(merged);
  });

  it("is an empty but valid run for a clean image", () => {
    const clean = renderSarif([sampleReport({}, []).report]);
    expect(SarifLogSchema.parse(clean).runs[0]?.results).toEqual([]);
  });

  it("percent-encodes a registry port so the image URI is not read as a scheme", () => {
    const local = renderSarif([sampleReport({ registry: "localhost:5000" }).report]);
    expect(local.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(
      "localhost%3A5000/team-a/api",
    );
  });
});
