import { z } from "zod";
import { pep503Name } from "../model/package-name.js";
import { SeveritySchema, SeveritySourceSchema } from "../model/report.js";
import { RemediationHintSchema } from "./msrc/remediation-hint.js";
import { ecosystemBase } from "./osv.js";

/**
 * The compact DB: what the matcher needs of each OSV record, sharded by ecosystem and package.
 *
 *   vulndb/current.json                                  → { version, checkedAt }   (written last)
 *   vulndb/<version>/metadata.json                       → DbMetadata
 *   vulndb/<shardVersion>/shards/<ecosystem>/<n>.json.gz → Shard (packages hashed into n buckets)
 *
 * A version directory is never rewritten; an ecosystem whose feed did not change keeps pointing at
 * the shards of the version that built it, so an unchanged update copies nothing.
 */
export const DB_SCHEMA_VERSION = 1;
export const DB_PREFIX = "vulndb";

export const EventKindSchema = z.enum(["introduced", "fixed", "last_affected", "limit"]);
export type EventKind = z.infer<typeof EventKindSchema>;

export const CompactRangeSchema = z.object({
  type: z.enum(["ECOSYSTEM", "SEMVER"]),
  events: z.array(z.tuple([EventKindSchema, z.string()])),
});
export type CompactRange = z.infer<typeof CompactRangeSchema>;

/** One OSV `affected` entry for one package, reduced for matching. */
export const AdvisoryEntrySchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  /** the CVEs a distribution advisory (DSA, RHSA, USN …) is about: named on the finding, never merged by */
  upstream: z.array(z.string()).optional(),
  summary: z.string().optional(),
  modified: z.string(),
  severity: SeveritySchema,
  cvss: z.object({ vector: z.string(), score: z.number() }).optional(),
  severitySource: SeveritySourceSchema.optional(),
  ranges: z.array(CompactRangeSchema),
  versions: z.array(z.string()).optional(),
  /** the feed's own fix advice (MSRC: KB, release date, base image), for the remediation text */
  remediationHint: RemediationHintSchema.optional(),
  /** the feed that published the entry: a feed update replaces its own entries only (absent: sourceFeedOf) */
  feed: z.string().optional(),
});
export type AdvisoryEntry = z.infer<typeof AdvisoryEntrySchema>;

export const ShardSchema = z.object({
  schemaVersion: z.literal(DB_SCHEMA_VERSION),
  ecosystem: z.string(),
  bucket: z.number().int().nonnegative(),
  /** keyed by packageKey(ecosystem, name) */
  packages: z.record(z.string(), z.array(AdvisoryEntrySchema)),
});
export type Shard = z.infer<typeof ShardSchema>;

/** One document of a feed made of several (MSRC: one per month), kept so the next update re-fetches only what moved. */
export const FeedDocumentStateSchema = z.object({
  /** the DB version directory holding the document as last fetched (trimmed to what conversion reads) */
  storedIn: z.string(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  /** the feed index's date for the document: unchanged means not fetched at all */
  currentReleaseDate: z.string().optional(),
});
export type FeedDocumentState = z.infer<typeof FeedDocumentStateSchema>;

export const FeedStateSchema = z.object({
  url: z.string().optional(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  fetchedAt: z.string(),
  records: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  withdrawn: z.number().int().nonnegative(),
  /** by document id ("2024-Mar"), for feeds made of documents */
  documents: z.record(z.string(), FeedDocumentStateSchema).optional(),
  /** fingerprints of a feed fetched in parts whose entries live in the shards (NVD: one per year file) */
  parts: z
    .record(z.string(), z.object({ etag: z.string().optional(), lastModified: z.string().optional() }))
    .optional(),
});
export type FeedState = z.infer<typeof FeedStateSchema>;

export const EcosystemStateSchema = z.object({
  advisories: z.number().int().nonnegative(),
  packages: z.number().int().nonnegative(),
  buckets: z.number().int().positive(),
  /** the DB version whose directory holds this ecosystem's shards */
  shardVersion: z.string(),
  /** the feed (base ecosystem or "import") the entries came from */
  feed: z.string(),
  /** every feed with entries here (NuGet: the OSV export and MSRC's runtime packs); absent in older DBs */
  feeds: z.array(z.string()).optional(),
});
export type EcosystemState = z.infer<typeof EcosystemStateSchema>;

export const PackageRefSchema = z.object({ ecosystem: z.string(), name: z.string() });
export type PackageRef = z.infer<typeof PackageRefSchema>;

export const DbMetadataSchema = z.object({
  schemaVersion: z.literal(DB_SCHEMA_VERSION),
  version: z.string(),
  updatedAt: z.string(),
  ecosystems: z.record(z.string(), EcosystemStateSchema),
  feeds: z.record(z.string(), FeedStateSchema),
  /** (ecosystem, package) pairs whose advisories changed since `since`; `full` when there was no previous DB */
  changes: z.object({
    since: z.string().nullable(),
    full: z.boolean(),
    packages: z.array(PackageRefSchema),
    /** CVE ids whose rating changed in a rating feed (CVE records, NVD, the Debian tracker): a rescan's cue */
    changedCves: z.array(z.string()).optional(),
  }),
});
export type DbMetadata = z.infer<typeof DbMetadataSchema>;

export const CurrentPointerSchema = z.object({ version: z.string(), checkedAt: z.string() });
export type CurrentPointer = z.infer<typeof CurrentPointerSchema>;

export const dbKeys = {
  current: `${DB_PREFIX}/current.json`,
  versionPrefix: (version: string) => `${DB_PREFIX}/${version}/`,
  metadata: (version: string) => `${DB_PREFIX}/${version}/metadata.json`,
  shard: (version: string, ecosystem: string, bucket: number) =>
    `${DB_PREFIX}/${version}/shards/${encodeURIComponent(ecosystem)}/${bucket}.json.gz`,
  feedDocument: (version: string, feed: string, id: string) =>
    `${DB_PREFIX}/${version}/feeds/${encodeURIComponent(feed)}/${encodeURIComponent(id)}.json.gz`,
};

/** The feed MSRC's records come from (their ids are `MSRC-CVE-…`). */
export const MSRC_FEED = "MSRC";
/** The feed and pseudo-ecosystem of CVE records' own ratings, one "package" per CVE id; no inventory names it. */
export const CVE_ECOSYSTEM = "CVE";
/** The feed and pseudo-ecosystem of NVD's CVSS metrics, one "package" per CVE id (nvd/). */
export const NVD_ECOSYSTEM = "NVD";
/** The feed and pseudo-ecosystem of the Debian security tracker's urgencies, one "package" per `Debian:<n>/<source>` (debian-tracker/). */
export const DEBIAN_TRACKER_ECOSYSTEM = "Debian-tracker";
/** Pseudo-ecosystems that hold ratings of CVEs, not advisories: their entries' ids are CVE ids. */
export const RATING_ECOSYSTEMS: ReadonlySet<string> = new Set([
  CVE_ECOSYSTEM,
  NVD_ECOSYSTEM,
  DEBIAN_TRACKER_ECOSYSTEM,
]);

/**
 * The feed that publishes a record: MSRC for `MSRC-…` ids, else the OSV export of its ecosystem
 * family. Imported records are tagged with it, so the feed's next update replaces them.
 */
export function sourceFeedOf(id: string, ecosystem: string): string {
  return id.startsWith("MSRC-") ? MSRC_FEED : ecosystemBase(ecosystem);
}

/** The feed an entry belongs to (entries written before tagging carry none). */
export function entryFeed(entry: AdvisoryEntry, ecosystem: string): string {
  return entry.feed ?? sourceFeedOf(entry.id, ecosystem);
}

/** How advisories name a package in an ecosystem: PyPI names are PEP 503-normalized, NuGet is case-insensitive. */
export function packageKey(ecosystem: string, name: string): string {
  switch (ecosystemBase(ecosystem)) {
    case "PyPI":
      return pep503Name(name);
    case "NuGet":
      return name.toLowerCase();
    default:
      return name;
  }
}

/** FNV-1a: stable across processes and languages, which the on-store layout needs. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function bucketOf(key: string, buckets: number): number {
  return fnv1a(key) % buckets;
}

/** About 128 packages a shard, a power of two between 1 and 256 shards per ecosystem. */
export function bucketCountFor(packages: number): number {
  let n = 1;
  while (n < 256 && n * 128 < packages) n *= 2;
  return n;
}
