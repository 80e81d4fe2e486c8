import type { Match } from "../matching/match.js";
import { isUnscannable } from "../model/scan-gaps.js";
import { type ContentFact, ContentFactSchema } from "../model/content.js";
import type { Severity } from "../model/report.js";
import type { Inventory, Report } from "../model/report.js";
import { type Decision, decide } from "../policy/decide.js";
import type { Policy } from "../policy/policy.js";
import type { OpenVexDocument } from "../policy/vex.js";
import { assembleReport, buildReport } from "../report/build-report.js";
import type { DbStamp } from "./pipeline-deps.js";

/** A stored inventory from before the configuration audit: its report must not read as audited. */
const NOT_AUDITED = {
  code: "not-audited",
  message:
    "this inventory predates the configuration audit: misconfigurations were not checked (rescan the image)",
};

export interface VerdictInputs {
  policy: Policy;
  vex?: readonly OpenVexDocument[];
  filters?: { ignoreUnfixed?: boolean; severity?: readonly Severity[] };
  now?: Date;
  /** false: the report is not parsed against ReportSchema again (the pipeline's verdicts, see assembleReport) */
  checkReport?: boolean;
}

/**
 * One image's report: the policy's decision over its matches, assembled into the JSON contract.
 * The CLI's `scan` and the pipeline's verdict stage both end here, so they cannot disagree.
 */
export function makeReport(
  inventory: Inventory,
  matches: readonly Match[],
  db: DbStamp | undefined,
  inputs: VerdictInputs,
): { report: Report; decision: Decision } {
  const { image } = inventory;
  const content = contentFact(inventory);
  const decision = decide(matches, inputs.policy, {
    repository: image.repository,
    registry: image.registry,
    digest: image.digest,
    layers: inventory.layers,
    ...(inputs.now ? { now: inputs.now } : {}),
    ...(inputs.vex ? { vex: inputs.vex } : {}),
    ...(inputs.filters ? { filters: inputs.filters } : {}),
    ...(inventory.misconfigurations ? { misconfigurations: inventory.misconfigurations } : {}),
    unscannable: inventory.warnings.filter(isUnscannable),
    ...(content ? { content } : {}),
  });
  const warnings = inventory.misconfigurations ? decision.warnings : [...decision.warnings, NOT_AUDITED];
  const report = (inputs.checkReport === false ? assembleReport : buildReport)(
    inventory,
    decision.findings,
    decision.verdict,
    db,
    [...warnings, ...(content?.warnings ?? [])],
    decision.misconfigurations,
    decision.content,
  );
  return { report, decision };
}

/** The content engine's findings from the inventory's facts; undefined when it did not run. */
function contentFact(inventory: Inventory): ContentFact | undefined {
  const parsed = ContentFactSchema.safeParse(inventory.facts?.content);
  return parsed.success ? parsed.data : undefined;
}
