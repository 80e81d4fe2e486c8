import { describe, expect, it } from "vitest";
import { ReportSchema } from "../../shared/model/report.js";
import { assembleReport, buildReport } from "../../shared/report/build-report.js";
import { inventory, match } from "../policy/match-builder.js";
import { sampleReport } from "./report-fixture.js";

describe("buildReport", () => {
  it("assembles the README's report contract with exactly its top-level keys, in order", () => {
    const { report } = sampleReport();
    expect(Object.keys(report)).toEqual([
      "schemaVersion",
      "image",
      "db",
      "packages",
      "findings",
      "verdict",
      "warnings",
    ]);
    expect(report.schemaVersion).toBe(1);
    expect(report.image).toEqual(inventory().image);
    expect(report.packages).toEqual(inventory().packages);
    expect(ReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it("carries each finding's tier, remediation and suppression", () => {
    const { report } = sampleReport();
    const byId = new Map(report.findings.map((f) => [f.id, f]));
    expect(byId.get("CVE-2024-0001")).toMatchObject({
      tier: "block",
      remediation: expect.stringContaining("libssl3"),
    });
    expect(byId.get("CVE-2024-0006")?.remediation).toBe("rebuild on a newer base image");
    expect(byId.get("CVE-2023-4911")?.suppressed).toMatchObject({
      kind: "accepted-risk",
      expires: "2030-01-01",
    });
  });

  it("omits db and verdict when there are none, and merges warnings without repeats", () => {
    const inv = { ...inventory(), warnings: [{ code: "foreign-layer", message: "skipped a foreign layer" }] };
    const report = buildReport(inv, [], undefined, undefined, [
      { code: "foreign-layer", message: "skipped a foreign layer" },
      { code: "accepted-risk-expired", message: "expired" },
    ]);
    expect(Object.keys(report)).toEqual(["schemaVersion", "image", "packages", "findings", "warnings"]);
    expect(report.warnings.map((w) => w.code)).toEqual(["foreign-layer", "accepted-risk-expired"]);
  });

  it("refuses to build a report that breaks the contract", () => {
    const bad = { ...match(), tier: "urgent" } as unknown as Parameters<typeof buildReport>[1][number];
    expect(() => buildReport(inventory(), [bad], undefined, undefined)).toThrow(/tier/);
  });

  it("assembles unchecked (the pipeline's verdicts) exactly the report the check passes, misconfigurations and content included", () => {
    const misconfiguration = {
      id: "PCS-LNX-0001",
      title: "root login over SSH",
      severity: "high" as const,
      rationale: "a password guess gives root",
      references: ["CIS Debian Linux 12 Benchmark v1.1.0, 5.1.20"],
      evidence: [{ location: "/etc/ssh/sshd_config", line: 3, found: "PermitRootLogin yes" }],
      remediation: { shell: "sh" as const, script: "sed -i '/PermitRootLogin/d' /etc/ssh/sshd_config" },
      tier: "fix" as const,
    };
    const content = {
      rule: "secret/private-key",
      category: "secret" as const,
      confidence: "confirmed" as const,
      engines: ["portcullis"],
      path: "/root/.ssh/id_rsa",
      layer: inventory().layers[0]!,
      summary: "a private key",
      evidence: ["line 1"],
    };
    const args: Parameters<typeof buildReport> = [
      inventory(),
      sampleReport().report.findings,
      { decision: "block", reasons: ["critical"] },
      { version: "v1", updatedAt: "2025-01-01T00:00:00Z" },
      [{ code: "accepted-risk-expired", message: "expired" }],
      [misconfiguration],
      [content],
    ];
    const unchecked = assembleReport(...args);
    expect(JSON.stringify(unchecked)).toBe(JSON.stringify(buildReport(...args)));
    expect(ReportSchema.parse(JSON.parse(JSON.stringify(unchecked)))).toEqual(unchecked);
  });
});
