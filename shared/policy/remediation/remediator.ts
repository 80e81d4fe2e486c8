import type { RemediationAction, RemediationTarget } from "../../model/remediation-action.js";
import { SEVERITY_ORDER } from "../../model/report.js";
import { type Tier, tierRank } from "../../model/tier.js";
import { versioningFor } from "../../vulndb/versioning/index.js";
import type { PolicyMatch } from "../tier.js";

// The contract every remediation family implements, and the grouping helpers they share.
export type CompareVersions = (ecosystem: string, a: string, b: string) => number;

export interface RemediationContext {
  /** the image's layer digests, base first (Inventory.layers) */
  layers?: readonly string[];
  /**
   * which layers came from the base image: their digests, or how many leading layers it has (from
   * the image history or the base image's own manifest). Default: the first layer.
   */
  baseLayers?: ReadonlySet<string> | number;
  /** the base image's name when known (`debian:12`, the org.opencontainers.image.base.name label) */
  baseImage?: string;
  /** how to pick the highest fixed version; default: the ecosystem's scheme (ecosystemCompare) */
  compareVersions?: CompareVersions;
}

/** A finding as planning sees it: a match, and its tier once the policy has given it one. */
export type PlannedFinding = PolicyMatch & { tier?: Tier };

export interface RemediationPlan {
  /** grouped actions, most urgent first */
  actions: RemediationAction[];
  /** the one-line remediation of each finding that has one (the Finding's `remediation`) */
  byFinding: Map<PolicyMatch, string>;
}

/**
 * A way to fix findings of some ecosystems. It gets every fixable finding of its ecosystems (those
 * from base layers too when `handlesBaseLayers`) and groups them as it sees fit.
 */
export interface Remediator {
  readonly ecosystems: readonly string[];
  /** true when this remediator's own action is the right one even for base-layer packages */
  readonly handlesBaseLayers?: boolean;
  plan(findings: readonly PlannedFinding[], ctx: RemediationContext): RemediationPlan;
}

export interface TargetGroup {
  target: RemediationTarget;
  findings: PlannedFinding[];
}

/** One target per package name: the highest fixed version among its findings fixes them all. */
export function targetsOf(
  findings: readonly PlannedFinding[],
  compare?: CompareVersions,
): Map<string, TargetGroup> {
  const byName = new Map<string, TargetGroup>();
  for (const f of findings) {
    const fixed = f.fixedVersion!;
    const group = byName.get(f.package.name);
    if (group === undefined) {
      byName.set(f.package.name, { target: { name: f.package.name, fixedVersion: fixed }, findings: [f] });
      continue;
    }
    group.findings.push(f);
    if ((compare ?? ecosystemCompare)(f.package.ecosystem, fixed, group.target.fixedVersion) > 0) {
      group.target.fixedVersion = fixed;
    }
  }
  return new Map([...byName].sort(([a], [b]) => a.localeCompare(b)));
}

/** The ecosystem's own scheme (shared/vulndb/versioning) when it knows both versions, else a natural order. */
export const ecosystemCompare: CompareVersions = (ecosystem, a, b) => {
  const scheme = versioningFor(ecosystem);
  return scheme?.isValid(a) && scheme.isValid(b) ? scheme.compare(a, b) : naturalCompare(a, b);
};

/** Digit runs compare as numbers, the rest as text: right for most schemes when none is supplied. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true, sensitivity: "base" });
}

/** Distinct vulnerability ids, most severe first. */
export function idsOf(findings: readonly PlannedFinding[]): string[] {
  const sorted = [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id),
  );
  return [...new Set(sorted.map((f) => f.id))];
}

export function truncateList(list: string, max = 120): string {
  return list.length <= max ? list : `${list.slice(0, max - 1)}…`;
}

export function mostUrgentTier(findings: readonly PlannedFinding[]): Tier {
  let best: Tier = "report";
  for (const f of findings) if (f.tier !== undefined && tierRank(f.tier) < tierRank(best)) best = f.tier;
  return best;
}
