import { describe, expect, it } from "vitest";
import { type MisconfigurationMatch, ReportSchema } from "../../shared/model/report.js";
import { decide } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { PolicyError } from "../../shared/policy/policy-error.js";
import { buildReport } from "../../shared/report/build-report.js";
import { MISCONFIGURATION_FINGERPRINT_KEY, renderSarif, SarifLogSchema } from "../../shared/report/sarif.js";
import { renderTable } from "../../shared/report/table.js";
import { makeReport } from "../../shared/stages/make-report.js";
import { APP_LAYER, BASE_LAYER, inventory, match } from "../policy/match-builder.js";

const ctx = {
  repository: "team-a/api",
  layers: [BASE_LAYER, APP_LAYER],
  now: new Date("2025-01-01T00:00:00Z"),
};

function misconfig(id: string, severity: MisconfigurationMatch["severity"]): MisconfigurationMatch {
  return {
    id,
    title: `check ${id}`,
    severity,
    rationale: "because",
    references: ["CIS Docker Benchmark v1.6.0, 4.1"],
    evidence: [{ location: "/etc/ssh/sshd_config", line: 3, found: "PermitRootLogin yes" }],
    layer: APP_LAYER,
    remediation: {
      shell: "sh",
      script: "sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config",
    },
  };
}

const critical = misconfig("PCS-LNX-0001", "critical");
const high = misconfig("PCS-WIN-0003", "high");
const medium = misconfig("PCS-LNX-0005", "medium");
const low = misconfig("PCS-IMG-0003", "low");

describe("the policy over misconfigurations", () => {
  it("tiers by severity by default: critical blocks, high and medium are fix, low is report", () => {
    const d = decide([], DEFAULT_POLICY, { ...ctx, misconfigurations: [low, medium, high, critical] });
    expect(d.misconfigurations?.map((m) => [m.id, m.tier])).toEqual([
      ["PCS-LNX-0001", "block"],
      ["PCS-WIN-0003", "fix"],
      ["PCS-LNX-0005", "fix"],
      ["PCS-IMG-0003", "report"],
    ]);
    expect(d.verdict.decision).toBe("block");
    expect(d.verdict.reasons).toEqual([
      "block: 1 critical misconfiguration (PCS-LNX-0001)",
      "fix: 2 high/medium misconfigurations (PCS-WIN-0003, PCS-LNX-0005)",
      "report: 1 low misconfiguration (PCS-IMG-0003)",
    ]);
  });

  it("joins vulnerabilities in one verdict: a fix-tier misconfiguration makes a clean image `fix`", () => {
    const d = decide([match({ severity: "low" })], DEFAULT_POLICY, { ...ctx, misconfigurations: [medium] });
    expect(d.verdict.decision).toBe("fix");
    expect(decide([], DEFAULT_POLICY, { ...ctx, misconfigurations: [low] }).verdict).toEqual({
      decision: "pass",
      reasons: [
        "no vulnerabilities or misconfigurations at block or fix tier",
        "report: 1 low misconfiguration (PCS-IMG-0003)",
      ],
    });
  });

  it("turns a check off or re-tiers it by id, and re-tiers a severity", () => {
    const policy = parsePolicy(`
misconfigurations:
  checks: { PCS-LNX-0001: "off", PCS-IMG-0003: block }
  tiers: { high: report }
`);
    const d = decide([], policy, { ...ctx, misconfigurations: [critical, high, low] });
    expect(d.misconfigurations?.map((m) => [m.id, m.tier])).toEqual([
      ["PCS-IMG-0003", "block"],
      ["PCS-WIN-0003", "report"],
    ]);
    expect(d.verdict.reasons).toContain("left out: 1 misconfiguration whose check is off");
  });

  it("suppresses by accepted risk with the check id, and says when the risk has expired", () => {
    const policy = parsePolicy(`
acceptedRisks:
  - { id: PCS-LNX-0001, reason: "break-glass image, SEC-9", expires: 2030-01-01 }
  - { id: PCS-WIN-0003, reason: "old", expires: 2024-06-30 }
  - { id: PCS-LNX-0005, package: openssh-server, reason: "a package never names a check", expires: 2030-01-01 }
`);
    const d = decide([], policy, { ...ctx, misconfigurations: [critical, high, medium] });
    const byId = new Map(d.misconfigurations?.map((m) => [m.id, m]));
    expect(byId.get("PCS-LNX-0001")?.suppressed).toEqual({
      kind: "accepted-risk",
      reason: "break-glass image, SEC-9",
      expires: "2030-01-01",
    });
    expect(byId.get("PCS-WIN-0003")?.suppressed).toBeUndefined();
    expect(byId.get("PCS-LNX-0005")?.suppressed).toBeUndefined();
    expect(d.verdict.decision).toBe("fix");
    expect(d.warnings.map((w) => w.code)).toEqual(["accepted-risk-expired"]);
    expect(d.verdict.reasons).toContain("suppressed: 1 by accepted risks");
  });

  it("applies the severity filter to misconfigurations too", () => {
    const d = decide([], DEFAULT_POLICY, {
      ...ctx,
      misconfigurations: [critical, low],
      filters: { severity: ["critical"] },
    });
    expect(d.misconfigurations?.map((m) => m.id)).toEqual(["PCS-LNX-0001"]);
    expect(d.filtered.severity).toBe(1);
  });

  it("refuses a policy naming a check id that is not one, and a tier that is not one", () => {
    expect(() => parsePolicy("misconfigurations: { checks: { PCS-FOO-1: off } }")).toThrow(PolicyError);
    expect(() => parsePolicy("misconfigurations: { checks: { PCS-LNX-0001: urgent } }")).toThrow(PolicyError);
    expect(() => parsePolicy("misconfigurations: { chekcs: {} }")).toThrow(/did you mean "checks"/);
  });
});

describe("misconfigurations in the outputs", () => {
  const inv = { ...inventory(), misconfigurations: [critical, low] };
  const d = decide([], DEFAULT_POLICY, { ...ctx, misconfigurations: inv.misconfigurations });
  const report = buildReport(inv, d.findings, d.verdict, undefined, d.warnings, d.misconfigurations);

  it("adds `misconfigurations` after `findings` in the JSON report, schemaVersion still 1", () => {
    expect(Object.keys(report)).toEqual([
      "schemaVersion",
      "image",
      "packages",
      "findings",
      "misconfigurations",
      "verdict",
      "warnings",
    ]);
    expect(report.schemaVersion).toBe(1);
    expect(ReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    // a report written before the audit still reads
    const { misconfigurations: _, ...old } = report;
    expect(ReportSchema.safeParse(old).success).toBe(true);
  });

  it("shows each tier with where it was seen and the RUN line that fixes it", () => {
    const text = renderTable(report, { color: false });
    const lines = text.split("\n");
    const block = lines.indexOf("MISCONFIGURATIONS: BLOCK — fix before this image ships (1)");
    expect(block).toBeGreaterThan(0);
    expect(lines.slice(block + 1, block + 4)).toEqual([
      "  CRITICAL  PCS-LNX-0001  check PCS-LNX-0001",
      "            /etc/ssh/sshd_config:3: PermitRootLogin yes",
      "            RUN sed -i 's/^PermitRootLogin yes/PermitRootLogin no/' /etc/ssh/sshd_config",
    ]);
    expect(text).toContain("MISCONFIGURATIONS: REPORT — no action required yet (1)");
  });

  it("writes one SARIF rule per check and one fingerprinted result per check, place and repository", () => {
    const log = SarifLogSchema.parse(renderSarif([report]));
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(["PCS-IMG-0003", "PCS-LNX-0001"]);
    const result = run.results.find((r) => r.ruleId === "PCS-LNX-0001")!;
    expect(run.tool.driver.rules[result.ruleIndex]?.id).toBe("PCS-LNX-0001");
    expect(result.level).toBe("error");
    expect(result.partialFingerprints[MISCONFIGURATION_FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{64}$/);
    expect(run.tool.driver.rules[1]?.help.text).toContain("CIS Docker Benchmark v1.6.0, 4.1");
  });
});

describe("an inventory stored before the audit", () => {
  it("reports no misconfigurations key and says the image was not audited", () => {
    const { report } = makeReport(inventory(), [], undefined, { policy: DEFAULT_POLICY });
    expect(report.misconfigurations).toBeUndefined();
    expect(report.warnings.map((w) => w.code)).toContain("not-audited");
    const audited = makeReport({ ...inventory(), misconfigurations: [] }, [], undefined, {
      policy: DEFAULT_POLICY,
    });
    expect(audited.report.misconfigurations).toEqual([]);
    expect(audited.report.warnings.map((w) => w.code)).not.toContain("not-audited");
  });
});
