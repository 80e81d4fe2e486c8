import { z } from "zod";

/**
 * The OSV record (https://ossf.github.io/osv-schema/), as it enters from feeds and imports.
 * Unknown keys are dropped; what the schema requires is enforced, so a malformed record is
 * skipped and counted by the caller instead of poisoning the DB.
 */
const TimestampSchema = z
  .string()
  .regex(
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$/,
    "not an RFC 3339 UTC timestamp",
  );

export const OsvSeveritySchema = z.object({
  type: z.enum(["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"]),
  score: z.string(),
});
export type OsvSeverity = z.infer<typeof OsvSeveritySchema>;

export const OsvEventSchema = z
  .object({
    introduced: z.string().optional(),
    fixed: z.string().optional(),
    last_affected: z.string().optional(),
    limit: z.string().optional(),
  })
  .refine((e) => Object.values(e).filter((v) => v !== undefined).length === 1, {
    message: "an event has exactly one of introduced, fixed, last_affected, limit",
  });
export type OsvEvent = z.infer<typeof OsvEventSchema>;

export const OsvRangeSchema = z
  .object({
    type: z.enum(["ECOSYSTEM", "SEMVER", "GIT"]),
    repo: z.string().optional(),
    events: z.array(OsvEventSchema).min(1),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.events.some((e) => e.introduced !== undefined), {
    message: "a range needs an introduced event",
  })
  .refine((r) => r.type !== "GIT" || r.repo !== undefined, { message: "GIT ranges require a repo" });
export type OsvRange = z.infer<typeof OsvRangeSchema>;

export const OsvAffectedSchema = z.object({
  // optional in the schema: GIT-only entries name a repository, not a package
  package: z
    .object({ ecosystem: z.string().min(1), name: z.string().min(1), purl: z.string().optional() })
    .optional(),
  severity: z.array(OsvSeveritySchema).nullish(),
  ranges: z.array(OsvRangeSchema).optional(),
  versions: z.array(z.string()).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});
export type OsvAffected = z.infer<typeof OsvAffectedSchema>;

export const OsvRecordSchema = z.object({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: TimestampSchema,
  published: TimestampSchema.optional(),
  withdrawn: TimestampSchema.optional(),
  aliases: z.array(z.string()).nullish(),
  related: z.array(z.string()).nullish(),
  upstream: z.array(z.string()).nullish(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(OsvSeveritySchema).nullish(),
  affected: z.array(OsvAffectedSchema).nullish(),
  references: z.array(z.object({ type: z.string(), url: z.string() })).nullish(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});
export type OsvRecord = z.infer<typeof OsvRecordSchema>;

export type OsvParseResult = { ok: true; record: OsvRecord } | { ok: false; reason: string };

/** Validates one untrusted record; never throws. */
export function parseOsvRecord(raw: unknown): OsvParseResult {
  const parsed = OsvRecordSchema.safeParse(raw);
  if (parsed.success) return { ok: true, record: parsed.data };
  const id =
    typeof raw === "object" && raw !== null && "id" in raw ? String((raw as { id: unknown }).id) : "?";
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    reason: `${id}: ${issue ? `${issue.path.join(".") || "record"}: ${issue.message}` : "invalid"}`,
  };
}

/** A withdrawal dated in the future has not happened yet. */
export function isWithdrawn(record: OsvRecord, now: Date = new Date()): boolean {
  return record.withdrawn !== undefined && Date.parse(record.withdrawn) <= now.getTime();
}

/** "Debian:12" → "Debian"; "Ubuntu:22.04:LTS" → "Ubuntu". */
export function ecosystemBase(ecosystem: string): string {
  const i = ecosystem.indexOf(":");
  return i < 0 ? ecosystem : ecosystem.slice(0, i);
}
