import type { RemediationAction } from "../../model/remediation-action.js";
import { SEVERITY_ORDER } from "../../model/report.js";
import { ecosystemMatches, hasFix, type PolicyMatch } from "../tier.js";
import { baseImagePlan, resolveBaseLayers } from "./base-image.js";
import { dotnetRuntimeRemediator } from "./dotnet.js";
import { manualRemediator, PACKAGE_MANAGERS, packageManagerRemediator } from "./package-managers.js";
import type { PlannedFinding, RemediationContext, RemediationPlan, Remediator } from "./remediator.js";
import { tierRank } from "../../model/tier.js";
import { windowsRemediator } from "./windows.js";

/** The registered remediators, first match by ecosystem wins. */
export const REMEDIATORS: readonly Remediator[] = [
  windowsRemediator,
  ...PACKAGE_MANAGERS.map((pm) =>
    pm.manager === "dotnet"
      ? dotnetRuntimeRemediator(packageManagerRemediator(pm))
      : packageManagerRemediator(pm),
  ),
];

/**
 * Turns fixable findings into grouped actions: packages from a base layer → one "rebuild on a
 * newer base image"; the rest → one upgrade per package manager. Findings without a fix get none.
 */
export function planRemediation(
  findings: readonly PlannedFinding[],
  ctx: RemediationContext = {},
  remediators: readonly Remediator[] = REMEDIATORS,
): RemediationPlan {
  const baseLayers = resolveBaseLayers(ctx);
  const perRemediator = new Map<Remediator, PlannedFinding[]>();
  const fromBase: PlannedFinding[] = [];
  const unhandled: PlannedFinding[] = [];
  for (const f of findings) {
    if (!hasFix(f)) continue;
    const remediator = remediators.find((r) =>
      r.ecosystems.some((e) => ecosystemMatches(e, f.package.ecosystem)),
    );
    if (baseLayers.has(f.layer) && !remediator?.handlesBaseLayers) fromBase.push(f);
    else if (remediator === undefined) unhandled.push(f);
    else perRemediator.set(remediator, [...(perRemediator.get(remediator) ?? []), f]);
  }

  const actions: RemediationAction[] = [];
  const byFinding = new Map<PolicyMatch, string>();
  const absorb = (plan: RemediationPlan) => {
    actions.push(...plan.actions);
    for (const [f, text] of plan.byFinding) byFinding.set(f, text);
  };
  for (const [remediator, group] of perRemediator) absorb(remediator.plan(group, ctx));
  if (unhandled.length > 0) absorb(manualRemediator.plan(unhandled, ctx));
  if (fromBase.length > 0) absorb(baseImagePlan(fromBase, ctx));

  actions.sort(
    (a, b) =>
      tierRank(a.tier) - tierRank(b.tier) ||
      severityRank(findings, a.findingIds) - severityRank(findings, b.findingIds) ||
      b.findingIds.length - a.findingIds.length ||
      a.key.localeCompare(b.key),
  );
  return { actions, byFinding };
}

function severityRank(findings: readonly PlannedFinding[], ids: readonly string[]): number {
  const wanted = new Set(ids);
  let best = SEVERITY_ORDER.length;
  for (const f of findings) if (wanted.has(f.id)) best = Math.min(best, SEVERITY_ORDER.indexOf(f.severity));
  return best;
}
