import { z } from "zod";
import { FindingRefSchema, type FindingRef, type VerdictDiff } from "../model/messages.js";
import { type Finding, SeveritySchema } from "../model/report.js";
import { TierSchema } from "../model/tier.js";

/** What a verdict diff compares of one finding; kept with each verdict as the next one's baseline. */
export const FindingStateSchema = FindingRefSchema.extend({
  severity: SeveritySchema,
  tier: TierSchema,
  suppressed: z.boolean(),
});
export type FindingState = z.infer<typeof FindingStateSchema>;

export const findingStateOf = (f: Finding): FindingState => ({
  id: f.id,
  package: f.package.name,
  version: f.package.version,
  severity: f.severity,
  tier: f.tier,
  suppressed: f.suppressed !== undefined,
});

const keyOf = (f: FindingRef) => `${f.id}|${f.package}|${f.version}`;
const refOf = (f: FindingRef): FindingRef => ({ id: f.id, package: f.package, version: f.version });

/** The difference between two verdicts' findings (and decisions), lists in key order. */
export function diffVerdicts(
  before: { decision: string; findings: readonly FindingState[] },
  after: { decision: string; findings: readonly FindingState[] },
): VerdictDiff {
  const old = new Map(before.findings.map((f) => [keyOf(f), f]));
  const now = new Map(after.findings.map((f) => [keyOf(f), f]));
  const diff: VerdictDiff = {
    new: [],
    fixed: [],
    unchanged: 0,
    severity: [],
    tier: [],
    accepted: [],
    expired: [],
  };
  for (const key of [...now.keys()].sort()) {
    const f = now.get(key)!;
    const was = old.get(key);
    if (!was) {
      diff.new.push(refOf(f));
      continue;
    }
    let changed = false;
    if (was.severity !== f.severity) {
      diff.severity.push({ ...refOf(f), from: was.severity, to: f.severity });
      changed = true;
    }
    if (was.tier !== f.tier) {
      diff.tier.push({ ...refOf(f), from: was.tier, to: f.tier });
      changed = true;
    }
    if (was.suppressed !== f.suppressed) {
      (f.suppressed ? diff.accepted : diff.expired).push(refOf(f));
      changed = true;
    }
    if (!changed) diff.unchanged++;
  }
  for (const key of [...old.keys()].sort()) if (!now.has(key)) diff.fixed.push(refOf(old.get(key)!));
  if (before.decision !== after.decision) diff.decision = { from: before.decision, to: after.decision };
  return diff;
}

/** The diff with each list cut to `max` entries (a queue message has a size limit), marked when cut. */
export function boundedDiff(diff: VerdictDiff, max: number): VerdictDiff {
  const lists = [diff.new, diff.fixed, diff.severity, diff.tier, diff.accepted, diff.expired];
  if (lists.every((l) => l.length <= max)) return diff;
  return {
    ...diff,
    new: diff.new.slice(0, max),
    fixed: diff.fixed.slice(0, max),
    severity: diff.severity.slice(0, max),
    tier: diff.tier.slice(0, max),
    accepted: diff.accepted.slice(0, max),
    expired: diff.expired.slice(0, max),
    truncated: true,
  };
}
