import picomatch from "picomatch";
import type { Finding } from "../model/report.js";
import type { Tier } from "../model/tier.js";
import type { Policy, PolicyRule } from "./policy.js";
import { effectiveRules } from "./policy.js";
import { formatImageRef } from "../model/image-reference.js";

/** What the matcher hands the policy: a finding before it has a tier, a remediation or a suppression. */
export type PolicyMatch = Omit<Finding, "tier" | "remediation" | "suppressed">;

/** The image a verdict is for, as policy conditions (repository globs) see it. */
export interface PolicyImage {
  /** `team-a/api`, `library/debian` */
  repository: string;
  /** `myacr.azurecr.io`; lets a glob name registry/repository */
  registry?: string;
}

export interface TierDecision {
  tier: Tier;
  /** the rule that decided, or undefined when the policy's defaultTier did */
  rule: PolicyRule | undefined;
  ruleIndex: number | undefined;
}

/** Compiled policy rules: picomatch matchers are built once, not per finding. */
export class TierRules {
  private readonly rules: readonly PolicyRule[];
  private readonly repositoryMatchers: ((image: PolicyImage) => boolean)[];
  private readonly defaultTier: Tier;

  constructor(policy: Policy) {
    this.rules = effectiveRules(policy);
    this.defaultTier = policy.defaultTier;
    this.repositoryMatchers = this.rules.map((rule) => repositoryMatcher(rule.repository));
  }

  /** First match wins. */
  tierOf(match: PolicyMatch, image: PolicyImage): TierDecision {
    for (const [i, rule] of this.rules.entries()) {
      if (ruleMatches(rule, match) && this.repositoryMatchers[i]!(image))
        return { tier: rule.tier, rule, ruleIndex: i };
    }
    return { tier: this.defaultTier, rule: undefined, ruleIndex: undefined };
  }
}

function ruleMatches(rule: PolicyRule, match: PolicyMatch): boolean {
  if (rule.severity !== undefined && !rule.severity.includes(match.severity)) return false;
  if (rule.fix === "fixed" && !hasFix(match)) return false;
  if (rule.fix === "unfixed" && hasFix(match)) return false;
  if (
    rule.ecosystem !== undefined &&
    !rule.ecosystem.some((e) => ecosystemMatches(e, match.package.ecosystem))
  ) {
    return false;
  }
  if (rule.id !== undefined && !rule.id.some((id) => namesVulnerability(id, match))) return false;
  return true;
}

export const hasFix = (match: PolicyMatch): boolean =>
  match.fixedVersion !== undefined && match.fixedVersion !== "";

/** `Debian` matches `Debian:12` and `Debian:11`; `Debian:12` matches only that release. Case-insensitive. */
export function ecosystemMatches(condition: string, ecosystem: string): boolean {
  const c = condition.toLowerCase();
  const e = ecosystem.toLowerCase();
  return e === c || e.startsWith(`${c}:`);
}

/** A vulnerability id names a finding through its id or any alias (CVE ↔ GHSA ↔ DSA). */
export function namesVulnerability(id: string, match: Pick<PolicyMatch, "id" | "aliases">): boolean {
  const wanted = id.toUpperCase();
  return match.id.toUpperCase() === wanted || match.aliases.some((a) => a.toUpperCase() === wanted);
}

/** Globs match the repository alone (`team-a/**`) or registry/repository (`myacr.azurecr.io/team-a/**`). */
export function repositoryMatcher(globs: readonly string[] | undefined): (image: PolicyImage) => boolean {
  if (globs === undefined) return () => true;
  const isMatch = picomatch([...globs], { nocase: true });
  return (image) =>
    isMatch(image.repository) ||
    (image.registry !== undefined &&
      isMatch(formatImageRef({ registry: image.registry, repository: image.repository })));
}
