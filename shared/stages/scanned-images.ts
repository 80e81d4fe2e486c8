import { z } from "zod";
import { PlatformSchema } from "../model/image.js";
import type { TableProperties, TableQuery, TableStore } from "../ports/table-store.js";
import { jsonProperty } from "../ports/json-property.js";
import { TABLES } from "./tables.js";

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
});
export type ScannedImage = z.infer<typeof RowSchema>;

/** The images table's partition: one per repository (registry included, so two registries never mix). */
export const imagePartition = (registry: string, repository: string) => `${registry}/${repository}`;

function toProperties(image: ScannedImage): TableProperties {
  return {
    ...image,
    tags: JSON.stringify(image.tags),
    platform: JSON.stringify(image.platform),
    reasons: JSON.stringify(image.reasons),
    counts: JSON.stringify(image.counts),
  };
}

/** The verdict's row for one platform image; a redelivered verdict rewrites the same row. */
export async function writeScannedImage(tables: TableStore, image: ScannedImage): Promise<void> {
  await tables.upsert(
    TABLES.images,
    imagePartition(image.registry, image.repository),
    image.digest,
    toProperties(image),
  );
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
  if (current.tags.includes(tag)) return;
  await tables.updateIfMatch(
    TABLES.images,
    row.partitionKey,
    row.rowKey,
    toProperties({ ...current, tags: [...current.tags, tag] }),
    row.etag,
  );
}
