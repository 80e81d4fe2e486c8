import { z } from "zod";
import { LimitsSchema } from "../model/limits.js";
import { CheckIdSchema, SEVERITY_ORDER, type Severity, SeveritySchema } from "../model/report.js";
import { TierSchema } from "../model/tier.js";
import { ContentPolicySchema } from "./content-policy.js";
import { TrackingConfigSchema } from "./tracking-config.js";

/** A one-item value may be written without the list brackets: `severity: critical`. */
const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).min(1));

/** `fixed`: the advisory names a fixed version; `unfixed`: it does not yet; `any`: either. */
export const FixStateSchema = z.enum(["fixed", "unfixed", "any"]);
export type FixState = z.infer<typeof FixStateSchema>;

/** One tiering rule. Every condition given must hold; an absent condition matches everything. */
export const PolicyRuleSchema = z.strictObject({
  /** shown in verdict reasons; defaults to the rule's position */
  name: z.string().min(1).max(200).optional(),
  severity: listOf(SeveritySchema).optional(),
  fix: FixStateSchema.default("any"),
  /** OSV ecosystem names; `Debian` matches `Debian:12`, `Debian:12` only that release */
  ecosystem: listOf(z.string().min(1)).optional(),
  /** picomatch globs over the image repository (`team-a/**`) or registry/repository */
  repository: listOf(z.string().min(1)).optional(),
  /** vulnerability ids; a finding matches through its id or any alias */
  id: listOf(z.string().min(1)).optional(),
  tier: TierSchema,
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

/** A date (`2025-06-30`, valid through that day, UTC) or a full ISO 8601 timestamp. */
const ExpirySchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: "expected an ISO date (2025-06-30) or timestamp (2025-06-30T12:00:00Z)",
});

export const AcceptedRiskSchema = z.strictObject({
  /** vulnerability id; matches a finding's id or any of its aliases */
  id: z.string().min(1),
  /** only this package (name as installed) */
  package: z.string().min(1).optional(),
  /** only images whose repository matches one of these globs */
  repository: listOf(z.string().min(1)).optional(),
  reason: z.string().min(1, "an accepted risk needs a reason"),
  expires: ExpirySchema,
  /** only content findings whose path matches one of these globs (`/opt/app/test-keys/**`) */
  path: listOf(z.string().min(1)).optional(),
});
export type AcceptedRisk = z.infer<typeof AcceptedRiskSchema>;

/**
 * `severity` as a report filter: a list keeps exactly those severities; a single severity is a
 * threshold and keeps it and everything above (`high` → critical, high).
 */
export const SeverityFilterSchema = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  // an unknown word is wrapped so the error lists the valid severities
  return SEVERITY_ORDER.includes(v as Severity) ? severitiesFrom(v as Severity) : [v];
}, z.array(SeveritySchema).min(1));

/** `high` → critical, high: a threshold as the list of severities it keeps. */
export function severitiesFrom(threshold: Severity): Severity[] {
  return SEVERITY_ORDER.slice(0, SEVERITY_ORDER.indexOf(threshold) + 1);
}

export const PolicySchema = z.strictObject({
  version: z.literal(1).default(1),
  /** first match wins; when absent, DEFAULT_RULES */
  rules: z.array(PolicyRuleSchema).max(1000).optional(),
  /** the tier of a finding no rule matches */
  defaultTier: TierSchema.default("report"),
  /** drop findings without a fixed version from the report before the verdict */
  ignoreUnfixed: z.boolean().default(false),
  severity: SeverityFilterSchema.optional(),
  acceptedRisks: z.array(AcceptedRiskSchema).max(10_000).default([]),
  /** paths to OpenVEX documents, relative to the policy file */
  vex: z.array(z.string().min(1)).max(1000).default([]),
  /** the tier of an image part of which could not be read or matched (shared/model/scan-gaps.ts) */
  unscannable: TierSchema.default("block"),
  /** passed through to layer analysis (shared/model/limits.ts); strict so a typo is an error, not a default */
  limits: LimitsSchema.strict().optional(),
  /** the configuration audit: per-check tier or `off`, and the tier of each severity */
  misconfigurations: z
    .strictObject({
      checks: z.record(CheckIdSchema, z.union([TierSchema, z.literal("off")])).default({}),
      tiers: z
        .strictObject({
          critical: TierSchema.default("block"),
          high: TierSchema.default("fix"),
          medium: TierSchema.default("fix"),
          low: TierSchema.default("report"),
          unknown: TierSchema.default("report"),
        })
        .prefault({}),
      /** the Windows account policy a SAM must meet (CIS Windows Server benchmark values by default) */
      accountPolicy: z
        .strictObject({
          minPasswordLength: z.number().int().min(0).max(128).default(14),
          passwordHistory: z.number().int().min(0).max(24).default(24),
          maxPasswordAgeDays: z.number().int().min(1).max(999).default(365),
          lockoutThreshold: z.number().int().min(1).max(999).default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  /** GitHub tracking issues: repository mapping, tag streams, threshold (shared/tracking/) */
  tracking: TrackingConfigSchema.optional(),
  /** language packages an OS package installed: `os` = matched through that package only (Trivy), `both` = also as themselves */
  osOwnedPackages: z.enum(["os", "both"]).default("os"),
  /** development dependencies a lockfile marks: listed in the inventory; `ignore` leaves them unmatched (Trivy) */
  devDependencies: z.enum(["ignore", "match"]).default("ignore"),
  /** the content engine's findings: per-rule tier or `off`, and the tier of each category × confidence */
  content: ContentPolicySchema.prefault({}),
});
export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

/**
 * What a security team expects out of the box (reasoning in docs/policy.md): a fixable
 * critical/high blocks, a fixable medium or unrated finding is work to schedule, and whatever
 * nobody can act on yet — no fix, or low severity — is reported, never gating.
 */
export const DEFAULT_RULES: readonly PolicyRule[] = [
  { name: "critical/high with a fix", severity: ["critical", "high"], fix: "fixed", tier: "block" },
  { name: "medium with a fix", severity: ["medium"], fix: "fixed", tier: "fix" },
  // nobody rates it (no advisory, distribution or CVE record does): not proof of harmlessness, and
  // a fix exists, so it is work to schedule — never a silent pass, never a block on no evidence
  { name: "unknown severity with a fix", severity: ["unknown"], fix: "fixed", tier: "fix" },
];

export const DEFAULT_POLICY: Policy = PolicySchema.parse({});

/** The rules a policy runs: its own, or the defaults when it has none. */
export const effectiveRules = (policy: Policy): readonly PolicyRule[] => policy.rules ?? DEFAULT_RULES;
