import type { Finding, Severity } from "../model/report.js";
import { type Tier, tierRank } from "../model/tier.js";
import { SEVERITY_ORDER } from "../model/report.js";

/** A finding of the stream, merged over its platforms. */
export interface TrackedFinding {
  /** `id|package`: a newer version that is still vulnerable is the same finding, not a fixed one */
  key: string;
  finding: Finding;
  platforms: string[];
}

export const findingKey = (f: Pick<Finding, "id" | "package">) => `${f.id}|${f.package.name}`;

/** At or above the threshold (block > fix > report). */
export const meetsThreshold = (tier: Tier, threshold: Tier) => tierRank(tier) <= tierRank(threshold);

/** The findings of every platform image of the stream, one entry per key, most urgent tier kept. */
export function mergeFindings(perPlatform: readonly { platform: string; findings: readonly Finding[] }[]) {
  const byKey = new Map<string, TrackedFinding>();
  for (const { platform, findings } of perPlatform)
    for (const finding of findings) {
      const key = findingKey(finding);
      const seen = byKey.get(key);
      if (!seen) byKey.set(key, { key, finding, platforms: [platform] });
      else {
        if (!seen.platforms.includes(platform)) seen.platforms.push(platform);
        if (tierRank(finding.tier) < tierRank(seen.finding.tier)) seen.finding = finding;
      }
    }
  return [...byKey.values()].sort(bySeverity);
}

/** Findings that keep the issue open: unsuppressed and at or above the threshold. */
export const activeFindings = (findings: readonly TrackedFinding[], threshold: Tier) =>
  findings.filter((f) => !f.finding.suppressed && meetsThreshold(f.finding.tier, threshold));

export function bySeverity(a: TrackedFinding, b: TrackedFinding): number {
  return (
    SEVERITY_ORDER.indexOf(a.finding.severity) - SEVERITY_ORDER.indexOf(b.finding.severity) ||
    tierRank(a.finding.tier) - tierRank(b.finding.tier) ||
    a.key.localeCompare(b.key)
  );
}

/** The most severe of the findings, or undefined when there are none. */
export function highestSeverity(findings: readonly TrackedFinding[]): Severity | undefined {
  let best: Severity | undefined;
  for (const f of findings)
    if (best === undefined || SEVERITY_ORDER.indexOf(f.finding.severity) < SEVERITY_ORDER.indexOf(best))
      best = f.finding.severity;
  return best;
}
