import { z } from "zod";
import { OsInfoSchema, PackageSchema, WarningSchema } from "./inventory.js";
import { ImageIdentitySchema } from "./image.js";
import { ContentFindingSchema } from "./content.js";
import { TierSchema } from "./tier.js";

export const SeveritySchema = z.enum(["critical", "high", "medium", "low", "unknown"]);
export type Severity = z.infer<typeof SeveritySchema>;
export const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "unknown"];

/**
 * Where a finding's severity came from, best first (docs/policy.md): the advisory's own rating,
 * the distribution's, a CVSS vector in the advisory, the CVE record's CNA or CISA-ADP metrics,
 * NVD's; `none` when no source rates it.
 */
export const SeveritySourceSchema = z.enum([
  "advisory",
  "distribution",
  "advisory-cvss",
  "cve-cna",
  "cve-adp",
  "nvd",
  "none",
]);
export type SeveritySource = z.infer<typeof SeveritySourceSchema>;

/** The `image` object of the report contract. */
export const ReportImageSchema = ImageIdentitySchema.extend({ os: OsInfoSchema.optional() });
export type ReportImage = z.infer<typeof ReportImageSchema>;

export const FindingSchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  summary: z.string().optional(),
  package: z.object({
    name: z.string(),
    version: z.string(),
    ecosystem: z.string(),
    purl: z.string(),
    /** a development dependency (matched because the policy asked: `devDependencies: match`) */
    dev: z.boolean().optional(),
    /** the OS package that installed this language package (matched because `osOwnedPackages: both`) */
    installedBy: z.string().optional(),
  }),
  fixedVersion: z.string().optional(),
  severity: SeveritySchema,
  cvss: z.object({ vector: z.string(), score: z.number() }).optional(),
  /** where `severity` came from; absent in reports written before it was recorded */
  severitySource: SeveritySourceSchema.optional(),
  layer: z.string(),
  tier: TierSchema,
  remediation: z.string().optional(),
  /** why a finding is not counted: an accepted risk or a VEX statement */
  suppressed: z
    .object({ kind: z.enum(["accepted-risk", "vex"]), reason: z.string(), expires: z.string().optional() })
    .optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

/** A configuration-audit check id: `PCS-WIN-0001`, `PCS-LNX-0001`, `PCS-IMG-0001`. */
export const CheckIdSchema = z
  .string()
  .regex(/^PCS-(WIN|LNX|IMG)-\d{4}$/, "expected a check id like PCS-LNX-0001");

/** Where a misconfiguration was seen: a file and line, a hive key and value, or an image-config field. Secrets are never in `found`. */
export const MisconfigurationEvidenceSchema = z.object({
  /** "/etc/ssh/sshd_config", "SYSTEM" (a hive), "image config" */
  location: z.string(),
  line: z.number().int().positive().optional(),
  /** a registry key below the hive root, or an image-config field (`Config.Env`) */
  key: z.string().optional(),
  /** a registry value name */
  value: z.string().optional(),
  /** what was seen, redacted: "PermitRootLogin yes", "DefaultPassword present (12 characters)" */
  found: z.string(),
});
export type MisconfigurationEvidence = z.infer<typeof MisconfigurationEvidenceSchema>;

/** One configuration-audit result before the policy tiers it (stored in the Inventory). */
export const MisconfigurationMatchSchema = z.object({
  id: CheckIdSchema,
  title: z.string(),
  severity: SeveritySchema,
  rationale: z.string(),
  /** "CIS Debian Linux 12 Benchmark v1.1.0, 5.1.20", "Microsoft Security Baseline …", "CIS Docker Benchmark 4.1" */
  references: z.array(z.string()).min(1),
  evidence: z.array(MisconfigurationEvidenceSchema).min(1),
  /** the layer that last wrote the evidence; absent for the image config */
  layer: z.string().optional(),
  /** the fix: a line for a Dockerfile `RUN` (sh, powershell) or a Dockerfile instruction itself */
  remediation: z.object({ shell: z.enum(["sh", "powershell", "dockerfile"]), script: z.string() }),
  /** a value the policy's baseline judges at verdict time (Windows account policy); null = never/none */
  measured: z.object({ setting: z.string(), value: z.number().nullable() }).optional(),
});
export type MisconfigurationMatch = z.infer<typeof MisconfigurationMatchSchema>;

/** A misconfiguration in the report: tiered and suppressed by the same policy as vulnerabilities. */
export const MisconfigurationSchema = MisconfigurationMatchSchema.extend({
  tier: TierSchema,
  suppressed: z
    .object({ kind: z.literal("accepted-risk"), reason: z.string(), expires: z.string().optional() })
    .optional(),
});
export type Misconfiguration = z.infer<typeof MisconfigurationSchema>;

export const VerdictSchema = z.object({
  decision: z.enum(["block", "fix", "pass"]),
  reasons: z.array(z.string()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** The JSON report contract (README, "JSON report contract"): one object per scanned platform image. */
export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  image: ReportImageSchema,
  db: z.object({ version: z.string(), updatedAt: z.string() }).optional(),
  packages: z.array(PackageSchema),
  findings: z.array(FindingSchema),
  /** configuration-audit findings; absent when the inventory predates the audit */
  misconfigurations: z.array(MisconfigurationSchema).optional(),
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
  /** what the configuration audit found (hives, config files, the image config), before the policy */
  misconfigurations: z.array(MisconfigurationMatchSchema).optional(),
});
export type Inventory = z.infer<typeof InventorySchema>;
