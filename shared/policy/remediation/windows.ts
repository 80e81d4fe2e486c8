import type { RemediationAction } from "../../model/remediation-action.js";
import type { RemediationHint } from "../../vulndb/msrc/remediation-hint.js";
import type { PolicyMatch } from "../tier.js";
import { idsOf, mostUrgentTier, type PlannedFinding, type Remediator, targetsOf } from "./remediator.js";

/** The feed's fix advice a match may carry (MSRC: KB, release date, base image); see MatchSchema. */
type HintedFinding = PlannedFinding & { remediationHint?: RemediationHint };

/**
 * Windows findings: the OS comes with the base image, so the action is a base image with an OS
 * build at or above the highest fixed build, naming the KBs (from the MSRC hint, or KB aliases)
 * and, when the advisory names it, the base image and the date after which a pull carries the fix.
 */
export const windowsRemediator: Remediator = {
  ecosystems: ["Windows"],
  handlesBaseLayers: true,
  plan(findings, ctx) {
    const byFinding = new Map<PolicyMatch, string>();
    const targets = targetsOf(findings, ctx.compareVersions);
    const actions: RemediationAction[] = [];
    for (const { target, findings: members } of targets.values()) {
      const hinted = members as readonly HintedFinding[];
      // the advice that goes with the highest fixed build: installing it fixes every member
      const hint = hinted.find(
        (f) => f.remediationHint && f.fixedVersion === target.fixedVersion,
      )?.remediationHint;
      const kbs = [
        ...new Set([
          ...members.flatMap((f) => f.aliases.filter((a) => /^KB\d+$/i.test(a))),
          ...(hint?.kb ? [hint.kb] : []),
        ]),
      ].sort();
      const baseImage = hint?.baseImage ?? ctx.baseImage;
      const title =
        hint?.baseImage === undefined
          ? `Rebuild on a base image with OS build ≥ ${target.fixedVersion}${kbs.length === 0 ? "" : ` (${kbs.join(", ")})`}${ctx.baseImage === undefined ? "" : `, e.g. a newer ${ctx.baseImage}`}`
          : `Rebuild on a base image with OS build ≥ ${target.fixedVersion} (${[
              ...kbs,
              `e.g. ${hint.baseImage}${hint.released ? ` pulled after ${hint.released}` : ""}`,
            ].join(", ")})`;
      actions.push({
        kind: "os-build-update",
        product: target.name,
        minBuild: target.fixedVersion,
        kbs,
        ...(baseImage === undefined ? {} : { baseImage }),
        key: `os-build:${target.name}`,
        title,
        findingIds: idsOf(members),
        tier: mostUrgentTier(members),
      });
      for (const f of members) byFinding.set(f, title);
    }
    return { actions, byFinding };
  },
};
