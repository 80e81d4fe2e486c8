import { describe, expect, it } from "vitest";
import { decide } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { match } from "./match-builder.js";

const policy = parsePolicy(`
acceptedRisks:
  - id: CVE-2023-4911
    package: glibc
    repository: "team-a/**"
    reason: setuid binaries removed (SEC-123)
    expires: 2025-06-30
  - id: GHSA-xxxx-yyyy-zzzz
    reason: dev-only dependency
    expires: 2025-06-30T12:00:00Z
`);

const looney = match({ id: "CVE-2023-4911", name: "glibc", version: "2.36-9+deb12u3", severity: "high" });
const at = (iso: string) => new Date(iso);
const teamA = { repository: "team-a/api" };

describe("accepted risks", () => {
  it("suppresses the finding, which then does not count toward the verdict", () => {
    const d = decide([looney], policy, { ...teamA, now: at("2025-03-01T00:00:00Z") });
    expect(d.findings[0]?.suppressed).toEqual({
      kind: "accepted-risk",
      reason: "setuid binaries removed (SEC-123)",
      expires: "2025-06-30",
    });
    expect(d.findings[0]?.tier).toBe("block");
    expect(d.verdict.decision).toBe("pass");
    expect(d.verdict.reasons).toContain("suppressed: 1 by accepted risks");
    expect(d.actions).toEqual([]);
  });

  it("holds through the whole expiry date and stops the day after", () => {
    expect(decide([looney], policy, { ...teamA, now: at("2025-06-30T23:59:59Z") }).verdict.decision).toBe(
      "pass",
    );
    const after = decide([looney], policy, { ...teamA, now: at("2025-07-01T00:00:00Z") });
    expect(after.findings[0]?.suppressed).toBeUndefined();
    expect(after.verdict.decision).toBe("block");
    expect(after.verdict.reasons).toContain("accepted risk for CVE-2023-4911 in glibc expired 2025-06-30");
    expect(after.warnings).toEqual([
      {
        code: "accepted-risk-expired",
        message:
          "accepted risk for CVE-2023-4911 in glibc expired 2025-06-30 (setuid binaries removed (SEC-123)); 1 finding count again",
      },
    ]);
  });

  it("honours a timestamp expiry to the second", () => {
    const ghsa = match({
      id: "CVE-2024-9999",
      aliases: ["GHSA-xxxx-yyyy-zzzz"],
      ecosystem: "npm",
      name: "left-pad",
    });
    expect(
      decide([ghsa], policy, { ...teamA, now: at("2025-06-30T11:59:59Z") }).findings[0]?.suppressed?.kind,
    ).toBe("accepted-risk");
    expect(
      decide([ghsa], policy, { ...teamA, now: at("2025-06-30T12:00:00Z") }).findings[0]?.suppressed,
    ).toBe(undefined);
  });

  it("applies only to the package it names", () => {
    const otherPackage = { ...looney, package: { ...looney.package, name: "libc6" } };
    const d = decide([otherPackage], policy, { ...teamA, now: at("2025-03-01T00:00:00Z") });
    expect(d.findings[0]?.suppressed).toBeUndefined();
    expect(d.warnings).toEqual([]);
  });

  it("applies only to repositories its glob matches", () => {
    const now = at("2025-03-01T00:00:00Z");
    expect(decide([looney], policy, { repository: "team-a/workers/cron", now }).verdict.decision).toBe(
      "pass",
    );
    expect(decide([looney], policy, { repository: "team-b/api", now }).verdict.decision).toBe("block");
  });

  it("does not report an expired entry when a renewed one covers the finding", () => {
    const renewed = parsePolicy(`
acceptedRisks:
  - { id: CVE-2023-4911, reason: first review, expires: 2024-12-31 }
  - { id: CVE-2023-4911, reason: second review, expires: 2025-12-31 }
`);
    const d = decide([looney], renewed, { ...teamA, now: at("2025-03-01T00:00:00Z") });
    expect(d.findings[0]?.suppressed?.reason).toBe("second review");
    expect(d.warnings).toEqual([]);
    expect(d.verdict.reasons.some((r) => r.includes("expired"))).toBe(false);
  });

  it("uses the real clock when none is injected", () => {
    const forever = parsePolicy(`acceptedRisks: [{ id: CVE-2023-4911, reason: r, expires: 2999-01-01 }]`);
    expect(decide([looney], forever, teamA).verdict.decision).toBe("pass");
  });
});
