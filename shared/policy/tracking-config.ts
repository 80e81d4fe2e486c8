import { z } from "zod";
import { TierSchema } from "../model/tier.js";

const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).min(1));

/** `owner/repo` as GitHub spells a repository. */
export const GitHubRepositorySchema = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, "expected owner/repo");

/** One mapping: image repositories (globs) → the GitHub repository their issues go to. */
export const TrackingMappingSchema = z.strictObject({
  /** picomatch globs over the image repository (`team-a/**`) or registry/repository */
  images: listOf(z.string().min(1)),
  github: GitHubRepositorySchema,
  labels: z.array(z.string().min(1).max(50)).max(20).default([]),
  assignees: z.array(z.string().min(1).max(39)).max(10).default([]),
  /** the lowest tier that opens an issue; default the tracking section's */
  threshold: TierSchema.optional(),
});
export type TrackingMapping = z.infer<typeof TrackingMappingSchema>;

/** A tag stream: tags matching `tags` (globs) share one issue named `name` (`1.x`, `latest`). */
export const TagStreamSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a stream name: letters, digits, . _ -"),
  tags: listOf(z.string().min(1)),
});
export type TagStream = z.infer<typeof TagStreamSchema>;

/** The `tracking:` section of portcullis.yaml. */
export const TrackingConfigSchema = z.strictObject({
  /** findings at this tier or above keep an issue open (block > fix > report) */
  threshold: TierSchema.default("fix"),
  /** how long `risk-accepted` and `/portcullis accept` without `until` hold */
  acceptDays: z.number().int().min(1).max(3650).default(90),
  /** per tag stream instead of one issue per image repository; unmatched tags use the repository's */
  tagStreams: z.array(TagStreamSchema).max(100).default([]),
  /** first match wins; used when the image's org.opencontainers.image.source names no repository */
  repositories: z.array(TrackingMappingSchema).max(1000).default([]),
  /** where the full report can be read (`{registry}`, `{repository}`, `{digest}` are filled in) */
  reportUrl: z.string().url().optional(),
});
export type TrackingConfig = z.infer<typeof TrackingConfigSchema>;

export const DEFAULT_TRACKING_CONFIG: TrackingConfig = TrackingConfigSchema.parse({});
