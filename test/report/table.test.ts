import { describe, expect, it } from "vitest";
import { renderTable } from "../../shared/report/table.js";
import { match } from "../policy/match-builder.js";
import { sampleReport } from "./report-fixture.js";

const { report, decision } = sampleReport();
const text = renderTable(report, { color: false, actions: decision.actions });
const lines = text.split("\n");
const section = (heading: string) => lines.findIndex((l) => l.startsWith(heading));
const rowOf = (id: string) => lines.findIndex((l) => l.trimEnd().endsWith(id) || l.includes(` ${id}  `));

describe("table", () => {
  it("opens with the image and the verdict with its reasons", () => {
    expect(lines[0]).toBe(`Image    registry.example.com/team-a/api:1.4 (sha256:${"9".repeat(64)})`);
    expect(lines[1]).toBe("OS       Debian GNU/Linux 12 (bookworm) · linux/amd64");
    expect(text).toContain("Verdict  BLOCK");
    expect(text).toContain("block: 3 critical/high vulnerabilities with fixes");
  });

  it("groups rows by tier, then severity", () => {
    const block = section("BLOCK");
    const fix = section("FIX");
    const reportTier = section("REPORT");
    const suppressed = section("SUPPRESSED");
    expect([block, fix, reportTier, suppressed].every((i) => i > 0)).toBe(true);
    expect(block).toBeLessThan(fix);
    expect(fix).toBeLessThan(reportTier);
    expect(reportTier).toBeLessThan(suppressed);
    // block: critical before high; report: critical (unfixed) before low
    const order = [
      "CVE-2024-0001",
      "CVE-2024-0002",
      "CVE-2024-0006",
      "CVE-2024-0003",
      "CVE-2024-0005",
      "CVE-2024-0004",
    ];
    const rows = order.map(rowOf);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(rows[0]).toBeGreaterThan(block);
    expect(rows[3]).toBeGreaterThan(fix);
    expect(rows[4]).toBeGreaterThan(reportTier);
    expect(rowOf("CVE-2023-4911")).toBeGreaterThan(suppressed);
  });

  it("shows severity, package, installed, fixed and id in aligned columns", () => {
    const header = lines[section("BLOCK") + 1]!;
    expect(header).toMatch(/^SEVERITY\s+PACKAGE\s+INSTALLED\s+FIXED\s+ID$/);
    const row = lines[rowOf("CVE-2024-0001")]!;
    expect(row).toMatch(/^CRITICAL\s+libssl3\s+3\.0\.11-1~deb12u2\s+3\.0\.13-1~deb12u1\s+CVE-2024-0001$/);
    expect(row.indexOf("CVE-2024-0001")).toBe(header.indexOf("ID"));
    expect(lines[rowOf("CVE-2024-0004")]).toContain("—");
  });

  it("shows why a finding is suppressed", () => {
    expect(lines[rowOf("CVE-2023-4911")]).toContain(
      "accepted-risk, until 2030-01-01: setuid binaries removed",
    );
  });

  it("ends with the grouped remediation actions and the ids each resolves", () => {
    const remediation = section("Remediation");
    expect(remediation).toBeGreaterThan(section("SUPPRESSED"));
    const tail = lines.slice(remediation).join("\n");
    expect(tail).toContain("$ apt-get update && apt-get install -y --only-upgrade libssl3 openssl tar");
    expect(tail).toContain("Rebuild on a newer base image");
    expect(tail).toContain("resolves CVE-2024-0001, CVE-2024-0002, CVE-2024-0003");
  });

  it("groups a stored report's findings by remediation when no actions are given", () => {
    const stored = renderTable(report, { color: false });
    expect(stored.match(/apt-get update/g)).toHaveLength(3);
    expect(stored).toContain("Remediation (4)");
  });

  it("colours only when asked", () => {
    expect(text).not.toContain("\x1b[");
    expect(renderTable(report, { color: true, actions: decision.actions })).toContain("\x1b[1;31mCRITICAL");
  });

  it("cuts overlong names and neutralises terminal escapes from the image", () => {
    const hostile = sampleReport({}, [
      match({ id: "CVE-2024-0009", name: `evil\x1b]0;pwned\x07${"x".repeat(80)}`, severity: "low" }),
    ]).report;
    const out = renderTable(hostile, { color: false });
    expect(out).not.toMatch(/[\x07\x1b]/);
    const row = out.split("\n").find((l) => l.startsWith("LOW"))!;
    expect(row).toContain("evil\uFFFD]0;pwned\uFFFD");
    expect(row).toContain("…");
  });

  it("says so when there is nothing to report", () => {
    const clean = renderTable(sampleReport({}, []).report, { color: false });
    expect(clean).toContain("Verdict  PASS");
    expect(clean).toContain("No vulnerabilities found.");
  });
});

describe("table, packages the policy let in beside production ones", () => {
  it("labels a dev dependency and an OS package's copy of a language package", () => {
    const dev = match({ id: "CVE-2024-1001", name: "mocha", version: "10.0.0", ecosystem: "npm" });
    dev.package.dev = true;
    const owned = match({ id: "CVE-2024-1002", name: "pyyaml", version: "6.0", ecosystem: "PyPI" });
    owned.package.installedBy = "python3-yaml";
    const out = renderTable(sampleReport({}, [dev, owned]).report, { color: false });
    expect(out).toMatch(/mocha \(dev\)\s+10\.0\.0/);
    expect(out).toMatch(/pyyaml \(from python3-yaml\)\s+6\.0/);
  });
});
