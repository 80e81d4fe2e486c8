import { z } from "zod";
import type { TableProperties, TableStore } from "../ports/table-store.js";
import { readScannedImage, imagePartition } from "./scanned-images.js";
import { TABLES } from "./tables.js";

/**
 * The `rescans` table: one partition per rescan run (historical, or a scheduled sweep), a `run` row
 * with what was asked and one row per image with where it stands — queued, verdict landed, failed.
 * This module is its only reader and writer.
 */
export const RescanIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "not a rescan id");

const RUN_ROW = "run";
const imageRow = (image: RescanImageKey) => `image ${image.registry}/${image.repository}@${image.digest}`;

const RunSchema = z.object({
  rescanId: RescanIdSchema,
  cause: z.enum(["historical", "scheduled"]),
  /** `registry/repository`, empty = every repository */
  repository: z.string(),
  allDigests: z.boolean(),
  since: z.string().optional(),
  /** "queuing" while the images are being sent to matching; "queued" once all are; "failed" if that stopped */
  status: z.enum(["queuing", "queued", "failed"]),
  reason: z.string().optional(),
  total: z.number().int().min(0),
  createdAt: z.string(),
  /** written after every batch while queuing: a run whose heartbeat stopped was interrupted and is resumed */
  heartbeatAt: z.string().optional(),
});
export type RescanRun = z.infer<typeof RunSchema>;

const ImageStateSchema = z.enum(["queued", "done", "failed", "stale"]);
const ImageSchema = z.object({
  registry: z.string(),
  repository: z.string(),
  digest: z.string(),
  state: ImageStateSchema,
  queuedAt: z.string(),
  reason: z.string().optional(),
  decision: z.string().optional(),
  verdictAt: z.string().optional(),
});
export type RescanImage = z.infer<typeof ImageSchema>;
export type RescanImageKey = Pick<RescanImage, "registry" | "repository" | "digest">;

const props = (value: Record<string, unknown>): TableProperties =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as TableProperties;

/** Runs still queuing, by id: the partition a restarted host reads to find work left half done. */
const QUEUING_PARTITION = "~queuing";

/**
 * Records a run (a rerun of the same id, a timer firing twice, rewrites it). A run still queuing is
 * also listed apart, so that an interrupted one can be found and finished.
 */
export async function writeRescanRun(tables: TableStore, run: RescanRun): Promise<void> {
  await tables.upsert(TABLES.rescans, run.rescanId, RUN_ROW, props(run));
  if (run.status === "queuing") await tables.upsert(TABLES.rescans, QUEUING_PARTITION, run.rescanId, {});
  else await tables.delete(TABLES.rescans, QUEUING_PARTITION, run.rescanId);
}

/** The runs recorded as still queuing (in progress, or interrupted by a crash). */
export async function queuingRescanRuns(tables: TableStore): Promise<RescanRun[]> {
  const runs: RescanRun[] = [];
  for await (const row of tables.query(TABLES.rescans, { partitionKey: QUEUING_PARTITION })) {
    const run = await readRescanRun(tables, row.rowKey);
    if (run?.status === "queuing") runs.push(run);
    else await tables.delete(TABLES.rescans, QUEUING_PARTITION, row.rowKey);
  }
  return runs;
}

/** The images a run has a row for already (`registry/repository@digest` → state): a resumed run skips them. */
export async function rescanImagesRecorded(
  tables: TableStore,
  rescanId: string,
): Promise<Map<string, RescanImage["state"]>> {
  const seen = new Map<string, RescanImage["state"]>();
  for await (const row of tables.query(TABLES.rescans, { partitionKey: rescanId, rowKeyPrefix: "image " }))
    seen.set(row.rowKey.slice("image ".length), ImageSchema.parse(row.properties).state);
  return seen;
}

/** The key `rescanImagesRecorded` lists an image under. */
export const recordedImageKey = (image: RescanImageKey): string => imageRow(image).slice("image ".length);

export async function readRescanRun(tables: TableStore, rescanId: string): Promise<RescanRun | undefined> {
  const row = await tables.get(TABLES.rescans, rescanId, RUN_ROW);
  return row ? RunSchema.parse(row.properties) : undefined;
}

/** One image of a run: queued (or stale, for a sweep that left it out on purpose). */
export async function writeRescanImage(
  tables: TableStore,
  rescanId: string,
  image: RescanImage,
): Promise<void> {
  await tables.upsert(TABLES.rescans, rescanId, imageRow(image), props(image));
}

/** Many images' progress rows of one rescan in one batch (a transaction per 100 rows). */
export async function writeRescanImages(
  tables: TableStore,
  rescanId: string,
  images: readonly RescanImage[],
): Promise<void> {
  await tables.upsertMany(
    TABLES.rescans,
    rescanId,
    images.map((image) => ({ rowKey: imageRow(image), properties: props(image) })),
  );
}

/** Matching could not re-match this image (its stored inventory is missing or corrupt): why, for it alone. */
export async function failRescanImage(
  tables: TableStore,
  rescanId: string,
  image: RescanImageKey,
  reason: string,
  at: Date,
): Promise<void> {
  const row = await tables.get(TABLES.rescans, rescanId, imageRow(image));
  const current = row ? ImageSchema.parse(row.properties) : undefined;
  await tables.upsert(
    TABLES.rescans,
    rescanId,
    imageRow(image),
    props({ ...image, queuedAt: current?.queuedAt ?? at.toISOString(), state: "failed", reason }),
  );
}

export interface RescanProgress {
  run: RescanRun;
  counts: Record<z.infer<typeof ImageStateSchema>, number>;
  images: RescanImage[];
  /** every image has its verdict, a failure, or a stale mark, and nothing is still being queued */
  finished: boolean;
}

/**
 * A run's progress. A queued image whose `images` row has a verdict made after it was queued has
 * landed; that is written back, so later reads skip it.
 */
export async function readRescanProgress(
  tables: TableStore,
  rescanId: string,
): Promise<RescanProgress | undefined> {
  const run = await readRescanRun(tables, rescanId);
  if (!run) return undefined;
  const images: RescanImage[] = [];
  for await (const row of tables.query(TABLES.rescans, { partitionKey: rescanId, rowKeyPrefix: "image " }))
    images.push(ImageSchema.parse(row.properties));
  for (const [i, image] of images.entries()) {
    if (image.state !== "queued") continue;
    const scanned = await readScannedImage(
      tables,
      imagePartition(image.registry, image.repository),
      image.digest,
    );
    if (!scanned || Date.parse(scanned.scannedAt) < Date.parse(image.queuedAt)) continue;
    const landed: RescanImage = {
      ...image,
      state: "done",
      decision: scanned.decision,
      verdictAt: scanned.scannedAt,
    };
    // a failure recorded meanwhile wins: only a still-queued row becomes done
    const current = await tables.get(TABLES.rescans, rescanId, imageRow(image));
    if (current && ImageSchema.parse(current.properties).state === "queued") {
      const write = await tables.updateIfMatch(
        TABLES.rescans,
        rescanId,
        imageRow(image),
        props(landed),
        current.etag,
      );
      if (write.ok) images[i] = landed;
    }
  }
  const counts = { queued: 0, done: 0, failed: 0, stale: 0 };
  for (const image of images) counts[image.state]++;
  return { run, counts, images, finished: run.status !== "queuing" && counts.queued === 0 };
}
