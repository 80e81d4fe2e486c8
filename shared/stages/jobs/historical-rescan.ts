import { randomBytes } from "node:crypto";
import {
  queuingRescanRuns,
  type RescanRun,
  recordedImageKey,
  rescanImagesRecorded,
  writeRescanRun,
} from "../rescan-runs.js";
import { readScan } from "../scan-state.js";
import { queryScannedImages, type ScannedImage } from "../scanned-images.js";
import {
  DEFAULT_RESCAN_BATCH,
  holdWhileQueueIsDeep,
  inBatches,
  type QueueDepthLimit,
  queueRescanBatch,
  type RescanQueueDeps,
} from "./rescan-queue.js";

export interface HistoricalRescanRequest {
  /** `registry/repository`, or "*" for every repository */
  repository: string;
  /** stale digests too (no tag points at them any more): an old image must not be redeployed on a stale verdict */
  allDigests?: boolean;
  /** only images first scanned at or after this time (ISO 8601) */
  since?: string;
}

export interface HistoricalRescanOptions {
  batchSize?: number;
  rescanId?: string;
  /** hold back while the matching queue is deeper than this */
  depthLimit?: QueueDepthLimit;
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
  options: HistoricalRescanOptions = {},
): Promise<RescanRun> {
  return continueHistoricalRescan(deps, await beginHistoricalRescan(deps, request, options), options);
}

/** Records the run as queuing (durably: an interrupted one is found and finished), queuing nothing yet. */
export async function beginHistoricalRescan(
  deps: RescanQueueDeps,
  request: HistoricalRescanRequest,
  options: Pick<HistoricalRescanOptions, "rescanId"> = {},
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
    heartbeatAt: deps.now().toISOString(),
  };
  await writeRescanRun(deps.tables, run);
  return run;
}

/**
 * Queues a run's images batch by batch until all are queued, skipping those it has a row for
 * already: a run interrupted half-way (a crash, a restart) is finished by calling this again.
 */
export async function continueHistoricalRescan(
  deps: RescanQueueDeps,
  started: RescanRun,
  options: HistoricalRescanOptions = {},
): Promise<RescanRun> {
  const run = { ...started };
  const since = run.since ? Date.parse(run.since) : undefined;
  const beat = async () => {
    run.heartbeatAt = deps.now().toISOString();
    await writeRescanRun(deps.tables, run);
  };
  try {
    const recorded = await rescanImagesRecorded(deps.tables, run.rescanId);
    run.total = recorded.size;
    const images = queryScannedImages(deps.tables, run.repository ? { repository: run.repository } : {});
    for await (const batch of inBatches(images, options.batchSize ?? DEFAULT_RESCAN_BATCH)) {
      const chosen: ScannedImage[] = [];
      const unsent: ScannedImage[] = [];
      for (const image of batch) {
        const state = recorded.get(recordedImageKey(image));
        // recorded as queued before an interruption: its send may not have happened (its id makes a resend safe)
        if (state === "queued") unsent.push(image);
        if (state) continue;
        if (image.staleSince && !run.allDigests) continue;
        if (since !== undefined && !(await firstScannedSince(deps, image, since))) continue;
        chosen.push(image);
      }
      if (chosen.length === 0 && unsent.length === 0) continue;
      await holdWhileQueueIsDeep(deps, run.rescanId, options.depthLimit, beat);
      if (unsent.length > 0) await queueRescanBatch(deps, run, unsent, { progressRows: false });
      const { queued, failed } = await queueRescanBatch(deps, run, chosen);
      run.total += queued + failed;
      await beat();
      // queued in the background beside the HTTP API: let its requests in between batches
      await new Promise<void>((resolve) => setImmediate(resolve));
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

/**
 * Finishes the runs a crash or a restart left queuing: a historical run goes on where it stopped; a
 * sweep's is closed as interrupted (the next sweep re-matches what it left). Only runs whose
 * heartbeat is older than `staleAfterMs` count — a younger one is still being worked on.
 */
export async function resumeInterruptedRescans(
  deps: RescanQueueDeps,
  options: HistoricalRescanOptions & { staleAfterMs: number },
): Promise<RescanRun[]> {
  const finished: RescanRun[] = [];
  const now = deps.now().getTime();
  for (const run of await queuingRescanRuns(deps.tables)) {
    const last = Date.parse(run.heartbeatAt ?? run.createdAt);
    if (Number.isFinite(last) && now - last < options.staleAfterMs) continue;
    if (run.cause === "historical") {
      deps.log(`rescan ${run.rescanId}: interrupted while queuing ${run.total} image(s); resuming`);
      finished.push(await continueHistoricalRescan(deps, run, options));
    } else {
      const closed: RescanRun = {
        ...run,
        status: "failed",
        reason: `interrupted after ${run.total} image(s); the next sweep re-matches the rest`,
      };
      await writeRescanRun(deps.tables, closed);
      finished.push(closed);
    }
  }
  return finished;
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
