import { z } from "zod";
import { OsInfoSchema, PackageSchema, WarningSchema } from "./inventory.js";
import { ImageIdentitySchema } from "./image.js";
import { ContentFindingSchema } from "./content.js";

export const SeveritySchema = z.enum(["critical", "high", "medium", "low", "unknown"]);
export type Severity = z.infer<typeof SeveritySchema>;
export const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "unknown"];

export const TierSchema = z.enum(["block", "fix", "report"]);
export type Tier = z.infer<typeof TierSchema>;

/** The `image` object of the report contract. */
export const ReportImageSchema = ImageIdentitySchema.extend({ os: OsInfoSchema.optional() });
export type ReportImage = z.infer<typeof ReportImageSchema>;

export const FindingSchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  summary: z.string().optional(),
  package: z.object({ name: z.string(), version: z.string(), ecosystem: z.string(), purl: z.string() }),
  fixedVersion: z.string().optional(),
  severity: SeveritySchema,
  cvss: z.object({ vector: z.string(), score: z.number() }).optional(),
  layer: z.string(),
  tier: TierSchema,
  remediation: z.string().optional(),
  /** why a finding is not counted: an accepted risk or a VEX statement */
  suppressed: z
    .object({ kind: z.enum(["accepted-risk", "vex"]), reason: z.string(), expires: z.string().optional() })
    .optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const VerdictSchema = z.object({
  decision: z.enum(["block", "fix", "pass"]),
  reasons: z.array(z.string()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** The JSON report contract (DESIGN.md): one object per scanned platform image. */
export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  image: ReportImageSchema,
  db: z.object({ version: z.string(), updatedAt: z.string() }).optional(),
  packages: z.array(PackageSchema),
  findings: z.array(FindingSchema),
  verdict: VerdictSchema.optional(),
  warnings: z.array(WarningSchema),
  /** malware, persistence, secrets and tampering found in the files (the content engine) */
  content: z.array(ContentFindingSchema).optional(),
});
export type Report = z.infer<typeof ReportSchema>;

/**
 * What layer analysis produces for one platform image: the stored SBOM that matching re-reads
 * whenever the vulnerability DB changes (Clair's index report).
 */
export const InventorySchema = z.object({
  schemaVersion: z.literal(1),
  image: ReportImageSchema,
  /** layer digests, base first */
  layers: z.array(z.string()),
  /** the analyzer-set version the layer reports were made with */
  analyzerSet: z.string(),
  packages: z.array(PackageSchema),
  warnings: z.array(WarningSchema),
  /** facts beyond packages that later stages use (Windows build and KBs, .NET runtimes …), by analyzer */
  facts: z.record(z.string(), z.unknown()).optional(),
});
export type Inventory = z.infer<typeof InventorySchema>;
