import { randomBytes } from "node:crypto";
import { readScan } from "../scan-state.js";
import { queryScannedImages, type ScannedImage } from "../scanned-images.js";
import { writeRescanRun, type RescanRun } from "../rescan-runs.js";
import { DEFAULT_RESCAN_BATCH, inBatches, queueRescanBatch, type RescanQueueDeps } from "./rescan-queue.js";

export interface HistoricalRescanRequest {
  /** `registry/repository`, or "*" for every repository */
  repository: string;
  /** stale digests too (no tag points at them any more): an old image must not be redeployed on a stale verdict */
  allDigests?: boolean;
  /** only images first scanned at or after this time (ISO 8601) */
  since?: string;
}

/** A historical rescan's id: when it was asked for, and random bits so two at once never collide. */
export const historicalRescanId = (now: Date): string =>
  `h-${now
    .toISOString()
    .replace(/[^0-9]/g, "")
    .slice(0, 14)}-${randomBytes(4).toString("hex")}`;

/**
 * `POST /api/rescans`: re-match the stored inventories of a repository's digests (or every
 * repository's) against the current DB, batch by batch, with cause `historical`. Resolves once every
 * image is queued; the verdicts land as matching and the verdict stage get to them.
 */
export async function startHistoricalRescan(
  deps: RescanQueueDeps,
  request: HistoricalRescanRequest,
  options: { batchSize?: number; rescanId?: string } = {},
): Promise<RescanRun> {
  const run: RescanRun = {
    rescanId: options.rescanId ?? historicalRescanId(deps.now()),
    cause: "historical",
    repository: request.repository === "*" ? "" : request.repository,
    allDigests: request.allDigests ?? false,
    ...(request.since ? { since: request.since } : {}),
    status: "queuing",
    total: 0,
    createdAt: deps.now().toISOString(),
  };
  await writeRescanRun(deps.tables, run);
  const since = request.since ? Date.parse(request.since) : undefined;
  try {
    const images = queryScannedImages(deps.tables, run.repository ? { repository: run.repository } : {});
    for await (const batch of inBatches(images, options.batchSize ?? DEFAULT_RESCAN_BATCH)) {
      const chosen: ScannedImage[] = [];
      for (const image of batch) {
        if (image.staleSince && !run.allDigests) continue;
        if (since !== undefined && !(await firstScannedSince(deps, image, since))) continue;
        chosen.push(image);
      }
      const { queued, failed } = await queueRescanBatch(deps, run, chosen);
      run.total += queued + failed;
    }
    run.status = "queued";
  } catch (err) {
    run.status = "failed";
    run.reason = `queuing stopped after ${run.total} image(s): ${(err as Error).message}`;
  }
  await writeRescanRun(deps.tables, run);
  deps.log(`rescan ${run.rescanId}: ${run.total} image(s) of ${run.repository || "every repository"} queued`);
  return run;
}

async function firstScannedSince(
  deps: RescanQueueDeps,
  image: ScannedImage,
  since: number,
): Promise<boolean> {
  const scan = await readScan(deps.tables, image.scanId);
  const created = Date.parse(scan?.state.createdAt ?? image.scannedAt);
  return Number.isFinite(created) && created >= since;
}
