import type { RemediationAction } from "../../model/remediation-action.js";
import {
  idsOf,
  mostUrgentTier,
  type PlannedFinding,
  type RemediationContext,
  type RemediationPlan,
  targetsOf,
  truncateList,
} from "./remediator.js";

/** Packages from base layers: one "rebuild on a newer base image", whatever their ecosystem. */
export function baseImagePlan(findings: readonly PlannedFinding[], ctx: RemediationContext): RemediationPlan {
  const targets = [...targetsOf(findings, ctx.compareVersions).values()].map((t) => t.target);
  const layers = [...new Set(findings.map((f) => f.layer))];
  const title =
    ctx.baseImage === undefined
      ? `Rebuild on a newer base image (base-image package${targets.length === 1 ? " with a fix" : "s with fixes"}: ${truncateList(targets.map((t) => t.name).join(", "))})`
      : `Rebuild on a newer ${ctx.baseImage} base image (${targets.length} of its packages ${targets.length === 1 ? "has a fix" : "have fixes"})`;
  const action: RemediationAction = {
    kind: "base-image-rebuild",
    layers,
    ...(ctx.baseImage === undefined ? {} : { baseImage: ctx.baseImage }),
    packages: targets,
    key: "base-image",
    title,
    findingIds: idsOf(findings),
    tier: mostUrgentTier(findings),
  };
  const perFinding =
    ctx.baseImage === undefined
      ? "rebuild on a newer base image"
      : `rebuild on a newer ${ctx.baseImage} base image`;
  return { actions: [action], byFinding: new Map(findings.map((f) => [f, perFinding])) };
}

export function resolveBaseLayers(ctx: RemediationContext): ReadonlySet<string> {
  if (ctx.baseLayers instanceof Set) return ctx.baseLayers;
  const count = typeof ctx.baseLayers === "number" ? ctx.baseLayers : 1;
  return new Set((ctx.layers ?? []).slice(0, count));
}
