import { compareMisconfigurations } from "../report/finding-order.js";
import {
  type Misconfiguration,
  type MisconfigurationMatch,
  SEVERITY_ORDER,
  type Severity,
} from "../model/report.js";
import type { Tier } from "../model/tier.js";
import type { AcceptedRisk, Policy } from "./policy.js";
import type { AcceptedRisks } from "./accepted-risks.js";
import type { PolicyImage } from "./tier.js";

export interface MisconfigurationDecision {
  /** tiered and suppressed, in report order; checks turned `off` are gone */
  misconfigurations: Misconfiguration[];
  /** how many the policy turned off or the severity filter left out */
  off: number;
  filtered: number;
}

/**
 * The policy over the configuration audit: a check's own entry in `misconfigurations.checks`
 * (a tier, or `off`) wins, else its severity's tier; then accepted risks, named by check id.
 */
export function tierMisconfigurations(
  matches: readonly MisconfigurationMatch[],
  policy: Policy,
  risks: AcceptedRisks,
  image: PolicyImage,
  now: Date,
  severities: readonly Severity[] | undefined,
  expired: Map<AcceptedRisk, unknown[]>,
): MisconfigurationDecision {
  const { checks, tiers } = policy.misconfigurations;
  let off = 0;
  let filtered = 0;
  const out: Misconfiguration[] = [];
  for (const found of matches) {
    const m = found.measured === undefined ? found : judgeMeasured(found, policy);
    if (m === undefined) continue;
    const own = checks[m.id];
    if (own === "off") {
      off++;
      continue;
    }
    if (severities !== undefined && !severities.includes(m.severity)) {
      filtered++;
      continue;
    }
    const tier: Tier = own ?? tiers[m.severity];
    const check = risks.check({ id: m.id, aliases: [] }, image, now);
    for (const risk of check.expired) expired.set(risk, [...(expired.get(risk) ?? []), m]);
    const applied = check.applied;
    out.push({
      ...m,
      tier,
      ...(applied === undefined
        ? {}
        : { suppressed: { kind: "accepted-risk", reason: applied.reason, expires: applied.expires } }),
    });
  }
  return { misconfigurations: out.sort(compareMisconfigurations), off, filtered };
}

type AccountPolicy = Policy["misconfigurations"]["accountPolicy"];

/**
 * A measured value (Windows account policy) against the policy's baseline: undefined when it meets
 * it, else the finding with the baseline written into its fix (`net accounts /minpwlen:14`).
 */
function judgeMeasured(m: MisconfigurationMatch, policy: Policy): MisconfigurationMatch | undefined {
  const { setting, value } = m.measured!;
  const baseline: AccountPolicy = policy.misconfigurations.accountPolicy;
  if (!(setting in baseline)) return m;
  const want = baseline[setting as keyof AccountPolicy];
  // a minimum must be reached; a maximum must not be exceeded, and 0 or "never" is no limit at all
  const atLeast = setting === "minPasswordLength" || setting === "passwordHistory";
  const meets = value !== null && (atLeast ? value >= want : value !== 0 && value <= want);
  if (meets) return undefined;
  return {
    ...m,
    remediation: { ...m.remediation, script: m.remediation.script.replace("<baseline>", String(want)) },
  };
}

/** "2 critical/high misconfigurations (PCS-LNX-0001, PCS-WIN-0009)" */
export function describeMisconfigurations(list: readonly Misconfiguration[], maxIds = 5): string {
  const ids = [...new Set(list.map((m) => m.id))];
  const severities = SEVERITY_ORDER.filter((s) => list.some((m) => m.severity === s)).join("/");
  const shown =
    ids.slice(0, maxIds).join(", ") + (ids.length > maxIds ? `, … ${ids.length - maxIds} more` : "");
  return `${list.length} ${severities} misconfiguration${list.length === 1 ? "" : "s"} (${shown})`;
}
