import { z } from "zod";
import { PlatformSchema } from "../model/image.js";
import type { TableProperties, TableQuery, TableStore } from "../ports/table-store.js";
import { jsonProperty } from "../ports/json-property.js";
import { TABLES } from "./tables.js";
import { ScanError } from "../model/errors.js";

/**
 * The `images` table: one row per scanned platform image (PK `registry/repository`, RK its digest),
 * written by the verdict and read by the query API, the gate and the rescan job. This module is its
 * only reader and writer, the way `scan-state.ts` owns `scans`.
 */
const RowSchema = z.object({
  registry: z.string(),
  repository: z.string(),
  digest: z.string(),
  scanId: z.string(),
  tags: jsonProperty(z.array(z.string())),
  platform: jsonProperty(PlatformSchema),
  /** `family version` of the detected OS, empty when none was found */
  os: z.string(),
  status: z.literal("done"),
  decision: z.string(),
  reasons: jsonProperty(z.array(z.string())),
  counts: jsonProperty(z.record(z.string(), z.number())),
  findings: z.number(),
  packages: z.number(),
  dbVersion: z.string(),
  inventoryKey: z.string(),
  reportKey: z.string(),
  scannedAt: z.string(),
  /** when the gate was last asked about this digest: a deploy pipeline asking means it is in use */
  lastGateQueryAt: z.string().optional(),
  /** set by the still-in-use sweep when no tag points at the digest any more (and no gate asked) */
  staleSince: z.string().optional(),
});
export type ScannedImage = z.infer<typeof RowSchema>;

/** The images table's partition: one per repository (registry included, so two registries never mix). */
export const imagePartition = (registry: string, repository: string) => `${registry}/${repository}`;

function toProperties(image: ScannedImage): TableProperties {
  const { lastGateQueryAt, staleSince, ...rest } = image;
  return {
    ...rest,
    ...(lastGateQueryAt ? { lastGateQueryAt } : {}),
    ...(staleSince ? { staleSince } : {}),
    tags: JSON.stringify(image.tags),
    platform: JSON.stringify(image.platform),
    reasons: JSON.stringify(image.reasons),
    counts: JSON.stringify(image.counts),
  };
}

/** What the verdict writes; the gate's and the sweep's marks are kept across a rewrite. */
export type ImageVerdict = Omit<ScannedImage, "lastGateQueryAt" | "staleSince">;

/**
 * The verdict's row for one platform image; a redelivered verdict rewrites the same row. The last
 * gate query and the stale mark survive (an ETag-guarded read-modify-write, retried on conflict).
 */
export async function writeScannedImage(tables: TableStore, image: ImageVerdict): Promise<void> {
  const partition = imagePartition(image.registry, image.repository);
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = await tables.get(TABLES.images, partition, image.digest);
    if (!row) {
      const write = await tables.insertIfAbsent(TABLES.images, partition, image.digest, toProperties(image));
      if (write.ok) return;
      continue;
    }
    const current = RowSchema.parse(row.properties);
    const next: ScannedImage = {
      ...image,
      ...(current.lastGateQueryAt ? { lastGateQueryAt: current.lastGateQueryAt } : {}),
      ...(current.staleSince ? { staleSince: current.staleSince } : {}),
    };
    const write = await tables.updateIfMatch(
      TABLES.images,
      partition,
      image.digest,
      toProperties(next),
      row.etag,
    );
    if (write.ok) return;
  }
  throw new ScanError(
    "concurrent-update",
    `image ${partition}@${image.digest}: too many concurrent updates`,
    {
      permanent: false,
    },
  );
}

/** Rewrites one row through `change` under its ETag (undefined = leave it); false when the row is missing. */
async function changeImage(
  tables: TableStore,
  partition: string,
  digest: string,
  change: (current: ScannedImage) => ScannedImage | undefined,
): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = await tables.get(TABLES.images, partition, digest);
    if (!row) return false;
    const next = change(RowSchema.parse(row.properties));
    if (!next) return true;
    const write = await tables.updateIfMatch(TABLES.images, partition, digest, toProperties(next), row.etag);
    if (write.ok) return true;
    if (!write.ok && write.conflict === "missing") return false;
  }
  throw new ScanError("concurrent-update", `image ${partition}@${digest}: too many concurrent updates`, {
    permanent: false,
  });
}

/** The gate was asked about this digest (at most one write a minute per digest: the gate is hot). */
export async function recordGateQuery(
  tables: TableStore,
  image: Pick<ScannedImage, "registry" | "repository" | "digest">,
  at: Date,
): Promise<void> {
  await changeImage(tables, imagePartition(image.registry, image.repository), image.digest, (current) => {
    const last = current.lastGateQueryAt ? Date.parse(current.lastGateQueryAt) : Number.NaN;
    if (Number.isFinite(last) && at.getTime() - last < 60_000) return undefined;
    return { ...current, lastGateQueryAt: at.toISOString() };
  });
}

/** The sweep found no tag pointing at the digest and no recent gate query: it is stale (kept, not rescanned). */
export async function markImageStale(tables: TableStore, image: ScannedImage, at: Date): Promise<void> {
  await changeImage(tables, imagePartition(image.registry, image.repository), image.digest, (current) =>
    current.staleSince ? undefined : { ...current, staleSince: at.toISOString() },
  );
}

/** A tag points at the digest again (the sweep saw it, or it was pushed): it is in use. */
export async function clearImageStale(tables: TableStore, image: ScannedImage): Promise<void> {
  if (!image.staleSince) return;
  await changeImage(tables, imagePartition(image.registry, image.repository), image.digest, (current) => {
    if (!current.staleSince) return undefined;
    const { staleSince: _gone, ...rest } = current;
    return rest;
  });
}

/** One image by its repository partition (`registry/repository`) and digest. */
export async function readScannedImage(
  tables: TableStore,
  partition: string,
  digest: string,
): Promise<ScannedImage | undefined> {
  const row = await tables.get(TABLES.images, partition, digest);
  return row ? RowSchema.parse(row.properties) : undefined;
}

/** Images in the order the table holds them, optionally one repository (`registry/repo`) or one decision. */
export async function* queryScannedImages(
  tables: TableStore,
  filter: { repository?: string; decision?: string; limit?: number } = {},
): AsyncGenerator<ScannedImage> {
  const query: TableQuery = {
    ...(filter.repository ? { partitionKey: filter.repository } : {}),
    ...(filter.decision ? { where: { decision: filter.decision } } : {}),
    ...(filter.limit !== undefined ? { limit: filter.limit } : {}),
  };
  for await (const row of tables.query(TABLES.images, query)) yield RowSchema.parse(row.properties);
}

/** An image already scanned was pushed under another tag: its row learns the tag (no-op when unscanned). */
export async function addImageTag(
  tables: TableStore,
  image: { registry: string; repository: string; digest?: string },
  tag: string,
): Promise<void> {
  if (!image.digest) return;
  const row = await tables.get(TABLES.images, imagePartition(image.registry, image.repository), image.digest);
  if (!row) return;
  const current = RowSchema.parse(row.properties);
  if (current.tags.includes(tag) && !current.staleSince) return;
  // a push under a tag is proof of use: a stale image is in use again
  const { staleSince: _pushed, ...rest } = current;
  await tables.updateIfMatch(
    TABLES.images,
    row.partitionKey,
    row.rowKey,
    toProperties({ ...rest, tags: current.tags.includes(tag) ? current.tags : [...current.tags, tag] }),
    row.etag,
  );
}
