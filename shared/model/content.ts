import { z } from "zod";
import { WarningSchema } from "./inventory.js";
import { TierSchema } from "./tier.js";

/** What a content finding is about: the five threat kinds. */
export const ContentCategorySchema = z.enum(["malware", "injection", "persistence", "secret", "integrity"]);
export type ContentCategory = z.infer<typeof ContentCategorySchema>;

/** `confirmed`: two independent engines agree on the file; `suspected`: one engine says so. */
export const ContentConfidenceSchema = z.enum(["confirmed", "suspected"]);
export type ContentConfidence = z.infer<typeof ContentConfidenceSchema>;

/**
 * A finding about an image's files rather than its packages' advisories: malware, persistence,
 * a secret, a package database that disagrees with the files. Evidence never holds a secret's value.
 */
export const ContentFindingSchema = z.object({
  /** stable rule id: "secret/private-key", "integrity/dpkg-md5sums", "persistence/ld-so-preload" … */
  rule: z.string(),
  category: ContentCategorySchema,
  confidence: ContentConfidenceSchema,
  /** the engines that flagged the file ("portcullis", "clamav") */
  engines: z.array(z.string()).min(1),
  /** the file's path in the image, with a leading slash */
  path: z.string(),
  /** digest of the layer that last wrote the file */
  layer: z.string(),
  /** the file's SHA-256, when its content was read */
  sha256: z.string().optional(),
  /** one line a developer can act on */
  summary: z.string(),
  /** what was seen: line numbers, expected and actual hashes, package names — never a secret */
  evidence: z.array(z.string()),
  /** set by the policy */
  tier: TierSchema.optional(),
  /** set by the policy: an accepted risk naming this rule (and path) */
  suppressed: z
    .object({ kind: z.enum(["accepted-risk", "vex"]), reason: z.string(), expires: z.string().optional() })
    .optional(),
});
export type ContentFinding = z.infer<typeof ContentFindingSchema>;

/** The content engine's image fact (`Inventory.facts.content`): what the report's `content` is made from. */
export const ContentFactSchema = z.object({
  findings: z.array(ContentFindingSchema),
  /** what an engine could not do (clamd unreachable): said in the report and the verdict */
  warnings: z.array(WarningSchema).optional(),
});
export type ContentFact = z.infer<typeof ContentFactSchema>;
