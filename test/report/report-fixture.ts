import type { Report } from "../../shared/model/report.js";
import { decide } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { buildReport } from "../../shared/report/build-report.js";
import { BASE_LAYER, inventory, match } from "../policy/match-builder.js";

/** A realistic Debian image: findings at every tier, one accepted risk, one base-layer package. */
export const MATCHES = [
  match({
    id: "CVE-2024-0001",
    name: "libssl3",
    severity: "critical",
    cvss: { vector: "CVSS:3.1/AV:N", score: 9.8 },
  }),
  match({
    id: "CVE-2024-0002",
    name: "openssl",
    severity: "high",
    summary: "PKCS12 parser NULL dereference",
  }),
  match({ id: "CVE-2024-0003", name: "tar", severity: "medium", fixedVersion: "1.34+dfsg-1.2+deb12u1" }),
  match({ id: "CVE-2024-0004", name: "login", severity: "low", fixedVersion: undefined }),
  match({ id: "CVE-2024-0005", name: "zlib1g", severity: "critical", fixedVersion: undefined }),
  match({ id: "CVE-2024-0006", name: "libc6", severity: "high", layer: BASE_LAYER }),
  match({ id: "CVE-2023-4911", name: "glibc", severity: "high" }),
];

export const POLICY = parsePolicy(`
acceptedRisks:
  - { id: CVE-2023-4911, package: glibc, reason: setuid binaries removed, expires: 2030-01-01 }
`);

export function sampleReport(overrides: Parameters<typeof inventory>[0] = {}, matches = MATCHES) {
  const inv = inventory(overrides);
  const decision = decide(matches, POLICY, {
    repository: inv.image.repository,
    registry: inv.image.registry,
    digest: inv.image.digest,
    layers: inv.layers,
    now: new Date("2025-01-01T00:00:00Z"),
  });
  const report: Report = buildReport(
    inv,
    decision.findings,
    decision.verdict,
    { version: "2025-01-01T00:00:00Z", updatedAt: "2025-01-01T00:00:00Z" },
    decision.warnings,
  );
  return { report, decision };
}
