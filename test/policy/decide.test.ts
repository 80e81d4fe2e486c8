import { describe, expect, it } from "vitest";
import { FindingSchema } from "../../shared/model/report.js";
import { decide, describeFindings } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { APP_LAYER, BASE_LAYER, match } from "./match-builder.js";

const ctx = {
  repository: "team-a/api",
  layers: [BASE_LAYER, APP_LAYER],
  now: new Date("2025-01-01T00:00:00Z"),
};

const critical = match({ id: "CVE-2024-1000", name: "libssl3", severity: "critical" });
const high = match({ id: "CVE-2024-1001", name: "openssl", severity: "high" });
const highToo = match({
  id: "CVE-2024-1002",
  name: "curl",
  severity: "high",
  fixedVersion: "7.88.1-10+deb12u6",
});
const medium = match({
  id: "CVE-2024-2000",
  name: "tar",
  severity: "medium",
  fixedVersion: "1.34+dfsg-1.2+deb12u1",
});
const unfixedCritical = match({
  id: "CVE-2024-3000",
  name: "zlib1g",
  severity: "critical",
  fixedVersion: undefined,
});
const low = match({ id: "CVE-2024-4000", name: "login", severity: "low" });

describe("verdict", () => {
  it("blocks on fixable critical/high and says which", () => {
    const d = decide([medium, high, low, critical, highToo, unfixedCritical], DEFAULT_POLICY, ctx);
    expect(d.verdict.decision).toBe("block");
    expect(d.verdict.reasons).toEqual([
      "block: 3 critical/high vulnerabilities with fixes (CVE-2024-1000, CVE-2024-1001, CVE-2024-1002)",
      "fix: 1 medium vulnerability with a fix (CVE-2024-2000)",
      "report: 2 critical/low vulnerabilities, 1 with a fix (CVE-2024-3000, CVE-2024-4000)",
    ]);
    for (const f of d.findings) expect(FindingSchema.parse(f)).toEqual(f);
  });

  it("asks for a fix when only fix-tier findings count", () => {
    const d = decide([medium, unfixedCritical], DEFAULT_POLICY, ctx);
    expect(d.verdict.decision).toBe("fix");
    expect(d.verdict.reasons[0]).toBe("fix: 1 medium vulnerability with a fix (CVE-2024-2000)");
  });

  it("passes when nothing reaches block or fix tier, still reporting the rest", () => {
    const d = decide([unfixedCritical, low], DEFAULT_POLICY, ctx);
    expect(d.verdict).toEqual({
      decision: "pass",
      reasons: [
        "no vulnerabilities at block or fix tier",
        "report: 2 critical/low vulnerabilities, 1 with a fix (CVE-2024-3000, CVE-2024-4000)",
      ],
    });
    expect(decide([], DEFAULT_POLICY, ctx).verdict).toEqual({
      decision: "pass",
      reasons: ["no vulnerabilities at block or fix tier"],
    });
  });

  it("names the deciding rules when the policy has its own", () => {
    const policy = parsePolicy(`rules: [{ name: prod gate, severity: [critical], tier: block }]`);
    expect(decide([critical], policy, ctx).verdict.reasons[0]).toBe(
      "block: 1 critical vulnerability with a fix (CVE-2024-1000) [prod gate]",
    );
  });

  it("returns findings in tier then severity order, with remediation and grouped actions", () => {
    const d = decide([low, medium, unfixedCritical, high, critical], DEFAULT_POLICY, ctx);
    expect(d.findings.map((f) => [f.tier, f.severity, f.id])).toEqual([
      ["block", "critical", "CVE-2024-1000"],
      ["block", "high", "CVE-2024-1001"],
      ["fix", "medium", "CVE-2024-2000"],
      ["report", "critical", "CVE-2024-3000"],
      ["report", "low", "CVE-2024-4000"],
    ]);
    expect(d.findings[0]?.remediation).toBe(
      "apt-get update && apt-get install -y --only-upgrade libssl3  # ≥ 3.0.13-1~deb12u1",
    );
    expect(d.findings[3]?.remediation).toBeUndefined();
    expect(d.actions).toHaveLength(1);
    expect(d.actions[0]?.findingIds).toEqual([
      "CVE-2024-1000",
      "CVE-2024-1001",
      "CVE-2024-2000",
      "CVE-2024-4000",
    ]);
    expect(d.actions[0]?.tier).toBe("block");
  });

  it("gives the same answer whatever order the matches arrive in", () => {
    const all = [low, medium, unfixedCritical, high, critical, highToo];
    const a = decide(all, DEFAULT_POLICY, ctx);
    const b = decide([...all].reverse(), DEFAULT_POLICY, ctx);
    expect(b).toEqual(a);
  });
});

describe("filters", () => {
  it("--ignore-unfixed drops unfixed findings before the verdict", () => {
    const d = decide([unfixedCritical, medium], DEFAULT_POLICY, { ...ctx, filters: { ignoreUnfixed: true } });
    expect(d.findings.map((f) => f.id)).toEqual(["CVE-2024-2000"]);
    expect(d.filtered).toEqual({ unfixed: 1, severity: 0 });
    expect(d.verdict.reasons).toContain("left out: 1 without a fix (ignoreUnfixed)");
  });

  it("--severity drops the other severities, so a dropped finding cannot block", () => {
    const d = decide([critical, medium], DEFAULT_POLICY, { ...ctx, filters: { severity: ["medium"] } });
    expect(d.findings.map((f) => f.id)).toEqual(["CVE-2024-2000"]);
    expect(d.verdict.decision).toBe("fix");
    expect(d.verdict.reasons).toContain("left out: 1 below the severity filter (medium)");
  });

  it("takes the policy's filters unless the command line overrides them", () => {
    const policy = parsePolicy("ignoreUnfixed: true\nseverity: high\n");
    expect(decide([unfixedCritical, low, high], policy, ctx).findings.map((f) => f.id)).toEqual([
      "CVE-2024-1001",
    ]);
    const overridden = decide([unfixedCritical, low, high], policy, {
      ...ctx,
      filters: { ignoreUnfixed: false, severity: ["critical", "high", "low"] },
    });
    expect(overridden.findings).toHaveLength(3);
  });
});

describe("describeFindings", () => {
  it("counts distinct vulnerabilities, notes extra packages and cuts long id lists", () => {
    const many = Array.from({ length: 7 }, (_, i) => match({ id: `CVE-2024-000${i}`, severity: "high" }));
    const twoPackages = [match({ name: "libssl3" }), match({ name: "openssl" })];
    expect(describeFindings(many)).toBe(
      "7 high vulnerabilities with fixes (CVE-2024-0000, CVE-2024-0001, CVE-2024-0002, CVE-2024-0003, CVE-2024-0004, … 2 more)",
    );
    expect(describeFindings(twoPackages)).toBe(
      "1 high vulnerability with a fix in 2 packages (CVE-2024-0001)",
    );
  });
});
