import { createHash } from "node:crypto";
import { z } from "zod";
import { DigestSchema } from "./digest.js";
import { canonicalRegistry } from "./image-reference.js";
import { ImageIdentitySchema, LayerRefSchema, type Platform, PlatformSchema } from "./image.js";
import { SeveritySchema, VerdictSchema } from "./report.js";
import { TierSchema } from "./tier.js";

/**
 * The messages the pipeline stages exchange over the bus: one queue per stage, one schema per queue.
 * Every message is `{ type, v: 1, scanId, image, … }` and is validated with these schemas when it
 * is received (the bus does it when a subscriber passes `schema`).
 */

/** The queues, in pipeline order; a stage's queue is named after the work it receives. */
export const QUEUE_NAMES = ["scan-requests", "layer-analysis", "matching", "verdict", "tracking"] as const;
export const QueueNameSchema = z.enum(QUEUE_NAMES);
export type QueueName = z.infer<typeof QueueNameSchema>;

/** 128 bits of SHA-256 in hex: see `scanIdOf`. */
export const ScanIdSchema = z.string().regex(/^[a-f0-9]{32}$/, "not a scan id");

/** What a user or a registry asks to scan: a repository and a tag, a digest, or both. */
export const ImageRefSchema = z
  .object({
    /** host[:port] as users name it ("docker.io", "127.0.0.1:5000") */
    registry: z.string().min(1),
    repository: z.string().min(1),
    tag: z.string().min(1).optional(),
    digest: DigestSchema.optional(),
  })
  .refine((ref) => ref.tag !== undefined || ref.digest !== undefined, "an image ref needs a tag or a digest");
export type ImageRef = z.infer<typeof ImageRefSchema>;

export const TriggerSchema = z.object({
  kind: z.enum(["push", "manual", "rescan", "github"]),
  /** the push event id or GitHub delivery id, for tracing and deduplication */
  eventId: z.string().optional(),
  /** who asked: "distribution", "acr-eventgrid", "api", "timer", "db-update", … */
  source: z.string().min(1),
});
export type Trigger = z.infer<typeof TriggerSchema>;

/**
 * Why a stored image is matched again without a pull: a database change that touched one of its
 * packages, the still-in-use sweep, a historical rescan someone asked for, an analyzer upgrade, or a
 * person's command (`/portcullis rescan`). Carried from matching to the verdict record.
 */
export const RESCAN_CAUSES = ["db-update", "scheduled", "historical", "analyzer-upgrade", "command"] as const;
export const RescanCauseSchema = z.enum(RESCAN_CAUSES);
export type RescanCause = z.infer<typeof RescanCauseSchema>;

/** Why a verdict was made: the image's own push (or manual scan), or one of the rescan causes. */
export const VerdictCauseSchema = z.enum(["push", ...RESCAN_CAUSES]);
export type VerdictCause = z.infer<typeof VerdictCauseSchema>;

/** A finding as a verdict diff names it: the findings table's key (`id|package|version`). */
export const FindingRefSchema = z.object({ id: z.string(), package: z.string(), version: z.string() });
export type FindingRef = z.infer<typeof FindingRefSchema>;

const findingChange = <T extends z.ZodType>(value: T) => FindingRefSchema.extend({ from: value, to: value });

/**
 * How a verdict differs from the previous verdict of the same digest: findings `new` and `fixed`
 * (gone, a withdrawn advisory's too), changed in `severity` or `tier`, newly `accepted` (suppressed)
 * or `expired` (no longer suppressed); `unchanged` counts the findings no list names.
 */
export const VerdictDiffSchema = z.object({
  new: z.array(FindingRefSchema),
  fixed: z.array(FindingRefSchema),
  unchanged: z.number().int().nonnegative(),
  severity: z.array(findingChange(SeveritySchema)),
  tier: z.array(findingChange(TierSchema)),
  accepted: z.array(FindingRefSchema),
  expired: z.array(FindingRefSchema),
  decision: z.object({ from: z.string(), to: z.string() }).optional(),
  /** the lists were cut short (a tracking message carries a bounded number of entries) */
  truncated: z.boolean().optional(),
});
export type VerdictDiff = z.infer<typeof VerdictDiffSchema>;

/** One verdict's record: why it was made and, after the first, what changed since the previous one. */
export const VerdictRecordSchema = z.object({
  cause: VerdictCauseSchema,
  at: z.string(),
  dbVersion: z.string(),
  previous: z.object({ at: z.string(), cause: VerdictCauseSchema, dbVersion: z.string() }).optional(),
  diff: VerdictDiffSchema.optional(),
});
export type VerdictRecord = z.infer<typeof VerdictRecordSchema>;

const envelope = <T extends string>(type: T) => ({
  type: z.literal(type),
  v: z.literal(1),
  scanId: ScanIdSchema,
});

/** scan-requests: resolve the reference; an index fans out to one scan per platform. */
export const ScanRequestMessageSchema = z.object({
  ...envelope("scan-request"),
  image: ImageRefSchema,
  trigger: TriggerSchema,
  /** "all", or os/arch[/variant]; omitted = linux/amd64 when the index has it, else every image */
  platform: z.string().optional(),
});
export type ScanRequestMessage = z.infer<typeof ScanRequestMessageSchema>;

/** layer-analysis: one message per layer not in the layer cache. */
export const LayerAnalysisMessageSchema = z.object({
  ...envelope("layer-analysis"),
  image: ImageIdentitySchema,
  layer: LayerRefSchema.extend({ digest: DigestSchema }),
  /** position of the layer, base = 0 */
  index: z.number().int().nonnegative(),
  /** layers in the image: the join knows it is complete when it has seen `total` */
  total: z.number().int().positive(),
});
export type LayerAnalysisMessage = z.infer<typeof LayerAnalysisMessageSchema>;

/** matching: re-read the stored inventory and match it against the current DB. */
export const MatchingMessageSchema = z.object({
  ...envelope("matching"),
  image: ImageIdentitySchema,
  /** BlobStore key of the inventory */
  inventoryKey: z.string().min(1),
  /** why: the scan's join, or a rescan after a DB update (no re-pull) */
  reason: z.enum(["scan", "rescan"]),
  /** for a rescan: what asked for it */
  cause: RescanCauseSchema.optional(),
  /** for a rescan recorded in the `rescans` table (historical, scheduled): where its progress goes */
  rescanId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  /** a person's request (`github-<delivery id>`): its verdict is never taken for a duplicate of the last */
  request: z.string().min(1).max(128).optional(),
});
export type MatchingMessage = z.infer<typeof MatchingMessageSchema>;

/** verdict: apply the policy to the findings and write the images/findings tables. */
export const VerdictMessageSchema = z.object({
  ...envelope("verdict"),
  image: ImageIdentitySchema,
  inventoryKey: z.string().min(1),
  /** BlobStore key of the report with findings (verdict not yet applied) */
  reportKey: z.string().min(1),
  dbVersion: z.string().min(1),
  /** for a rescan: what asked for it (omitted = the image's own scan) */
  cause: RescanCauseSchema.optional(),
  /** a person's request (`github-<delivery id>`), carried from matching: it names this verdict run */
  request: z.string().min(1).max(128).optional(),
  /** the rescan run, carried from matching: two runs on one DB version are two verdict runs */
  rescanId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
});
export type VerdictMessage = z.infer<typeof VerdictMessageSchema>;

/** tracking: open, update or close the GitHub issue of the image repository. */
export const TrackingMessageSchema = z.object({
  ...envelope("tracking"),
  image: ImageIdentitySchema,
  reportKey: z.string().min(1),
  verdict: VerdictSchema,
  dbVersion: z.string().min(1),
  /** "verdict" (default), "moved": an already-scanned digest was pushed again, "deleted": the tag is gone */
  cause: z.enum(["verdict", "moved", "deleted"]).optional(),
  /** the tag pushed or deleted, when one was */
  tag: z.string().min(1).optional(),
  /** when the image was pushed: an older push never moves a stream back */
  at: z.string().optional(),
  /** how often the stage has put it back while GitHub was unreachable */
  attempt: z.number().int().nonnegative().optional(),
  /** the verdict's cause and its diff from the previous verdict of the digest (lists bounded) */
  verdictRecord: VerdictRecordSchema.optional(),
  /** which verdict run (or push, or delete event) this is: the message id is made from it, so a redelivery keeps its id */
  run: z.string().min(1).max(200).optional(),
});
export type TrackingMessage = z.infer<typeof TrackingMessageSchema>;

export const PipelineMessageSchema = z.discriminatedUnion("type", [
  ScanRequestMessageSchema,
  LayerAnalysisMessageSchema,
  MatchingMessageSchema,
  VerdictMessageSchema,
  TrackingMessageSchema,
]);
export type PipelineMessage = z.infer<typeof PipelineMessageSchema>;

/** The schema a queue's messages must match: what a subscriber hands to `Bus.subscribe`. */
export const MESSAGE_SCHEMAS = {
  "scan-requests": ScanRequestMessageSchema,
  "layer-analysis": LayerAnalysisMessageSchema,
  matching: MatchingMessageSchema,
  verdict: VerdictMessageSchema,
  tracking: TrackingMessageSchema,
} as const satisfies Record<QueueName, z.ZodType>;

export type MessageOf<Q extends QueueName> = z.infer<(typeof MESSAGE_SCHEMAS)[Q]>;

/** A platform as one stable string: os/arch[/variant][:os.version]. */
function platformKey(platform: Platform): string {
  const p = PlatformSchema.parse(platform);
  const base = [p.os, p.architecture, p.variant].filter(Boolean).join("/");
  return p["os.version"] ? `${base}:${p["os.version"]}` : base;
}

/**
 * The id of one scan: the same (registry, repository, manifest digest, platform) always gives the
 * same id, so a push delivered twice, or pushed under two tags, maps to one scan. `digest` is the
 * pushed manifest's (an index's, for multi-platform images). A request-level id (before the index
 * is resolved) omits `platform`; a tag-only request uses `tag:<tag>` in place of the digest.
 */
export function scanIdOf(image: {
  registry: string;
  repository: string;
  digest?: string;
  tag?: string;
  platform?: Platform;
}): string {
  const target = image.digest ?? (image.tag === undefined ? undefined : `tag:${image.tag}`);
  if (target === undefined) throw new TypeError("scanIdOf needs a digest or a tag");
  const platform = image.platform ? platformKey(image.platform) : "*";
  // NUL cannot occur in any of the parts, so distinct tuples never hash the same input.
  const input = ["v1", canonicalRegistry(image.registry), image.repository, target, platform].join("\0");
  return createHash("sha256").update(input).digest("hex").slice(0, 32);
}

/** Service Bus caps a message id at 128 characters. */
const MAX_MESSAGE_ID = 128;
const READABLE_PART = /^[A-Za-z0-9:._-]{1,72}$/;

/**
 * The deterministic id of a message: stage + scan [+ part: a layer digest, a DB version …]. The
 * same logical message always gets the same id, which Service Bus duplicate detection and the
 * idempotent handlers both rely on. A deliberate re-run (a rescan after a DB update) must pass a
 * different `part`, or duplicate detection swallows it within its window.
 */
export function messageId(stage: QueueName, scanId: string, part?: string): string {
  QueueNameSchema.parse(stage);
  ScanIdSchema.parse(scanId);
  if (part === undefined) return `${stage}.${scanId}`;
  const shown = READABLE_PART.test(part)
    ? part
    : createHash("sha256").update(part).digest("hex").slice(0, 40);
  const id = `${stage}.${scanId}.${shown}`;
  if (id.length > MAX_MESSAGE_ID) throw new RangeError(`message id too long: ${id}`);
  return id;
}
