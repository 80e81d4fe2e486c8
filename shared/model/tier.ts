import { z } from "zod";

/** The policy's three tiers, most urgent first: the one order every list, table and threshold uses. */
export const TIERS = ["block", "fix", "report"] as const;
export const TierSchema = z.enum(TIERS);
export type Tier = z.infer<typeof TierSchema>;

/** 0 for block, 1 for fix, 2 for report: sort by it, or compare with a threshold. */
export const tierRank = (tier: Tier): number => TIERS.indexOf(tier);
