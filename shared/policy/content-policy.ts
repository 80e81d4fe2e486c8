import { z } from "zod";
import { TierSchema } from "../model/tier.js";

/** A category's tier: one for both confidences, or `{ confirmed, suspected }`. */
const CategoryTierSchema = z.union([
  TierSchema,
  z.strictObject({ confirmed: TierSchema, suspected: TierSchema }),
]);
export type CategoryTier = z.infer<typeof CategoryTierSchema>;

/** A content rule id as the engine writes it: `secret/private-key`, `yara/webshell-php-eval`. */
const ContentRuleIdSchema = z
  .string()
  .regex(/^[a-z0-9-]+\/[A-Za-z0-9_.-]+$/, "expected a content rule id like secret/private-key");

/**
 * `content:` in portcullis.yaml. Defaults: confirmed malware and every integrity mismatch block (an
 * edited package database makes the vulnerability verdict itself untrustworthy); the rest is reported.
 */
export const ContentPolicySchema = z.strictObject({
  /** by rule id: a tier, or `off` (quote it: bare off is YAML's false) */
  rules: z.record(ContentRuleIdSchema, z.union([TierSchema, z.literal("off")])).default({}),
  tiers: z
    .strictObject({
      malware: CategoryTierSchema.default({ confirmed: "block", suspected: "report" }),
      injection: CategoryTierSchema.default("report"),
      persistence: CategoryTierSchema.default("report"),
      secret: CategoryTierSchema.default("report"),
      integrity: CategoryTierSchema.default("block"),
    })
    .prefault({}),
  /** directories of the user's `.yar`/`.yara` files, relative to the policy file, run beside the shipped rules */
  yaraRules: z.array(z.string().min(1)).max(50).default([]),
});
export type ContentPolicy = z.infer<typeof ContentPolicySchema>;
