import type { ContentFinding } from "../model/content.js";
import type { Tier } from "../model/tier.js";
import type { AcceptedRisks } from "./accepted-risks.js";
import type { CategoryTier, ContentPolicy } from "./content-policy.js";
import type { AcceptedRisk } from "./policy.js";
import type { PolicyImage } from "./tier.js";

export interface ContentDecision {
  /** tiered and suppressed, in the engine's order; rules turned `off` are gone */
  findings: ContentFinding[];
  /** how many the policy turned off */
  off: number;
}

/**
 * The policy over the content engine's findings: a rule's own entry in `content.rules` (a tier, or
 * `off`) wins, else its category × confidence tier; then accepted risks, named by rule id (and path).
 */
export function tierContent(
  findings: readonly ContentFinding[],
  policy: ContentPolicy,
  risks: AcceptedRisks,
  image: PolicyImage,
  now: Date,
  expired: Map<AcceptedRisk, unknown[]>,
): ContentDecision {
  let off = 0;
  const out: ContentFinding[] = [];
  for (const f of findings) {
    const own = policy.rules[f.rule];
    if (own === "off") {
      off++;
      continue;
    }
    const tier = own ?? categoryTier(policy.tiers[f.category], f.confidence);
    const check = risks.check({ id: f.rule, aliases: [], path: f.path }, image, now);
    for (const risk of check.expired) expired.set(risk, [...(expired.get(risk) ?? []), f]);
    const applied = check.applied;
    out.push({
      ...f,
      tier,
      ...(applied === undefined
        ? {}
        : { suppressed: { kind: "accepted-risk", reason: applied.reason, expires: applied.expires } }),
    });
  }
  return { findings: out, off };
}

const categoryTier = (tier: CategoryTier, confidence: ContentFinding["confidence"]): Tier =>
  typeof tier === "string" ? tier : tier[confidence];

/** "2 content findings (integrity: /usr/bin/ls, /var/lib/dpkg/status)" */
export function describeContent(findings: readonly ContentFinding[], maxPaths = 5): string {
  const categories = [...new Set(findings.map((f) => f.category))].join("/");
  const paths = [...new Set(findings.map((f) => f.path))];
  const shown =
    paths.slice(0, maxPaths).join(", ") +
    (paths.length > maxPaths ? `, … ${paths.length - maxPaths} more` : "");
  const noun = findings.length === 1 ? "content finding" : "content findings";
  return `${findings.length} ${noun} (${categories}: ${shown})`;
}

/** "content: clamd could not scan 2 layers; one engine only" — a second engine that could not look is never silent. */
export function unscannedByClamd(layers: number): string {
  return `content: clamd could not scan ${layers} layer${layers === 1 ? "" : "s"}; one engine only`;
}
