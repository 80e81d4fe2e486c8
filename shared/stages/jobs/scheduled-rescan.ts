import type { RescanCause } from "../../model/messages.js";
import type { PipelineDeps } from "../pipeline-deps.js";
import { type RescanRun, writeRescanImage, writeRescanRun } from "../rescan-runs.js";
import { readScan } from "../scan-state.js";
import { clearImageStale, markImageStale, queryScannedImages, type ScannedImage } from "../scanned-images.js";
import { sendMatching } from "../send-matching.js";
import {
  DEFAULT_RESCAN_BATCH,
  holdWhileQueueIsDeep,
  inBatches,
  type QueueDepthLimit,
  queueRescanBatch,
} from "./rescan-queue.js";

export interface RescanOptions {
  /** images whose last verdict is older than this are re-matched */
  olderThanHours: number;
  /** …or whose verdict was made against another DB version (after a DB update) */
  unlessDbVersion?: string;
  /** identifies this run in the message ids, so it is not taken for a duplicate of the last one */
  runId: string;
  /** recorded with the verdict (default "scheduled") */
  cause?: RescanCause;
}

/**
 * The rescan timer: re-match the stored inventory of every image scanned before the cutoff (or on
 * an older DB) by sending `matching` with reason `rescan` — nothing is pulled again.
 */
export async function enqueueRescans(deps: PipelineDeps, options: RescanOptions): Promise<number> {
  const cutoff = deps.now().getTime() - options.olderThanHours * 3_600_000;
  let sent = 0;
  for await (const image of queryScannedImages(deps.tables)) {
    const scannedAt = Date.parse(image.scannedAt);
    const stale = !Number.isFinite(scannedAt) || scannedAt <= cutoff;
    const otherDb = options.unlessDbVersion !== undefined && image.dbVersion !== options.unlessDbVersion;
    if (!stale && !otherDb) continue;
    const scan = await readScan(deps.tables, image.scanId);
    if (scan?.state.status !== "done" || !image.inventoryKey) continue;
    await sendMatching(deps.bus, scan.state, {
      reason: "rescan",
      runId: options.runId,
      inventoryKey: image.inventoryKey,
      cause: options.cause ?? "scheduled",
    });
    sent++;
  }
  if (sent > 0) deps.log(`rescan ${options.runId}: ${sent} image(s) re-matched`);
  return sent;
}

export interface SweepOptions {
  /** identifies this run (the UTC hour): its rescan id is `scheduled-<runId>` */
  runId: string;
  /** images whose last verdict is younger than this are left alone */
  olderThanHours: number;
  /** a gate query within this window keeps an image in, tagged or not */
  gateWindowHours: number;
  batchSize?: number;
  /** hold back while the matching queue is deeper than this */
  depthLimit?: QueueDepthLimit;
}

export interface SweepResult {
  rescanId: string;
  queued: number;
  stale: number;
  failed: number;
  /** HEAD (or index) lookups made: one per repository and tag */
  tagLookups: number;
}

/**
 * The still-in-use sweep: re-match only images still in use — a tag still points at the digest
 * (one HEAD per repository:tag, never a pull) or the gate was asked about it within the window.
 * An image whose tags are all gone and that nobody asked about is marked stale, not rescanned.
 * Progress is recorded like a historical rescan's, at `GET /api/rescans/scheduled-<runId>`.
 */
export async function sweepImagesInUse(deps: PipelineDeps, options: SweepOptions): Promise<SweepResult> {
  const now = deps.now();
  const rescanId = `scheduled-${options.runId}`;
  const run: RescanRun = {
    rescanId,
    cause: "scheduled",
    repository: "",
    allDigests: false,
    status: "queuing",
    total: 0,
    createdAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
  };
  await writeRescanRun(deps.tables, run);
  const beat = async () => {
    run.heartbeatAt = deps.now().toISOString();
    await writeRescanRun(deps.tables, run);
  };
  const result: SweepResult = { rescanId, queued: 0, stale: 0, failed: 0, tagLookups: 0 };
  const lookups = new Map<string, Promise<string[] | Error>>();
  const taggedNow = (image: ScannedImage, tag: string): Promise<string[] | Error> => {
    const key = `${image.registry}/${image.repository}:${tag}`;
    let found = lookups.get(key);
    if (!found) {
      result.tagLookups++;
      found = deps.digestsTaggedNow!(image.registry, image.repository, tag).catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      lookups.set(key, found);
    }
    return found;
  };
  const inUse = async (image: ScannedImage): Promise<"tagged" | "queried" | "unknown" | false> => {
    const asked = image.lastGateQueryAt ? Date.parse(image.lastGateQueryAt) : Number.NaN;
    if (Number.isFinite(asked) && now.getTime() - asked <= options.gateWindowHours * 3_600_000)
      return "queried";
    if (!deps.digestsTaggedNow) return "unknown";
    let unknown = false;
    for (const tag of image.tags) {
      const digests = await taggedNow(image, tag);
      if (digests instanceof Error) {
        // a registry that cannot answer proves nothing: keep the image in, never mark it stale on an error
        deps.log(`rescan ${rescanId}: ${image.registry}/${image.repository}:${tag}: ${digests.message}`);
        unknown = true;
      } else if (digests.includes(image.digest)) return "tagged";
    }
    return unknown ? "unknown" : false;
  };

  const cutoff = now.getTime() - options.olderThanHours * 3_600_000;
  try {
    for await (const batch of inBatches(
      queryScannedImages(deps.tables),
      options.batchSize ?? DEFAULT_RESCAN_BATCH,
    )) {
      const due = batch.filter((image) => {
        const scannedAt = Date.parse(image.scannedAt);
        return !Number.isFinite(scannedAt) || scannedAt <= cutoff;
      });
      const verdicts = await Promise.all(due.map(async (image) => ({ image, use: await inUse(image) })));
      const keep: ScannedImage[] = [];
      for (const { image, use } of verdicts) {
        if (use !== false) {
          // in use again (tagged, or asked about): no longer stale; an unanswered lookup changes nothing
          if (use !== "unknown") await clearImageStale(deps.tables, image);
          keep.push(image);
          continue;
        }
        await markImageStale(deps.tables, image, now);
        await writeRescanImage(deps.tables, rescanId, {
          registry: image.registry,
          repository: image.repository,
          digest: image.digest,
          state: "stale",
          queuedAt: now.toISOString(),
          reason: `no tag points at it any more and the gate was not asked about it within ${options.gateWindowHours} h`,
        });
        result.stale++;
      }
      if (keep.length > 0) await holdWhileQueueIsDeep(deps, rescanId, options.depthLimit, beat);
      const { queued, failed } = await queueRescanBatch(deps, { rescanId, cause: "scheduled" }, keep);
      result.queued += queued;
      result.failed += failed;
      run.total += queued + failed + (due.length - keep.length);
      if (due.length > 0) await beat();
    }
    run.status = "queued";
  } catch (err) {
    run.status = "failed";
    run.reason = `the sweep stopped after ${run.total} image(s): ${(err as Error).message}`;
    throw err;
  } finally {
    await writeRescanRun(deps.tables, run);
    deps.log(
      `rescan ${rescanId}: ${result.queued} image(s) in use re-matched, ${result.stale} stale, ${result.failed} failed, ${result.tagLookups} tag lookup(s)`,
    );
  }
  return result;
}
