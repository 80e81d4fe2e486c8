import type { BlobStore } from "../ports/blob-store.js";
import { type DbRefreshResult, refreshDbAndRescan } from "../stages/jobs/db-refresh.js";
import { resumeInterruptedRescans } from "../stages/jobs/historical-rescan.js";
import type { QueueDepthLimit } from "../stages/jobs/rescan-queue.js";
import { type SweepResult, sweepImagesInUse } from "../stages/jobs/scheduled-rescan.js";
import type { RescanRun } from "../stages/rescan-runs.js";
import {
  type Cadence,
  JOB_SCHEDULES,
  type JobName,
  parseCadence,
  rescanRunId,
} from "../stages/jobs/schedules.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import type { UpdateOptions } from "../vulndb/db-update.js";
import { readSetting, type Settings } from "./settings.js";

/** Each timer job bound to the pipeline and its settings: what both hosts call on their schedule. */
export interface JobRunners extends Record<JobName, () => Promise<unknown>> {
  /** the still-in-use sweep: what it queued, marked stale and looked up */
  rescan(): Promise<SweepResult>;
  /** the feeds updated, then the targeted rescans (also `POST /api/db/refresh`) */
  dbRefresh(): Promise<DbRefreshResult>;
  /** at a host's start: every rescan still queuing was interrupted (nothing else runs yet) */
  resumeRescans(): Promise<RescanRun[]>;
}

/** A rescan run whose heartbeat is older than this was interrupted: the sweep timer resumes it. */
const INTERRUPTED_AFTER_MS = 5 * 60_000;

/** How rescans queue, from the settings: batch size and the matching-queue depth they hold back at. */
export function rescanQueuing(
  settings: Pick<Settings, "PORTCULLIS_RESCAN_BATCH_SIZE" | "PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH">,
): { batchSize: number; depthLimit: QueueDepthLimit } {
  return {
    batchSize: settings.PORTCULLIS_RESCAN_BATCH_SIZE,
    depthLimit: { maxDepth: settings.PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH },
  };
}

export function jobRunners(
  pipeline: PipelineDeps,
  settings: Settings,
  db: { store: BlobStore; options: UpdateOptions },
): JobRunners {
  // one DB refresh at a time: the timer and `POST /api/db/refresh` arriving together share one run
  let refreshing: Promise<DbRefreshResult> | undefined;
  const queuing = rescanQueuing(settings);
  const startedAt = pipeline.now();
  return {
    rescan: async () => {
      // a historical rescan a crash interrupted is finished first (its heartbeat stopped long ago)
      await resumeInterruptedRescans(pipeline, { ...queuing, staleAfterMs: INTERRUPTED_AFTER_MS });
      return sweepImagesInUse(pipeline, {
        runId: rescanRunId(pipeline.now()),
        olderThanHours: settings.PORTCULLIS_RESCAN_AFTER_HOURS,
        gateWindowHours: settings.PORTCULLIS_RESCAN_GATE_WINDOW_HOURS,
        ...queuing,
      });
    },
    // every run whose last heartbeat came before this host started
    resumeRescans: () =>
      resumeInterruptedRescans(pipeline, {
        ...queuing,
        staleAfterMs: pipeline.now().getTime() - startedAt.getTime() + 1,
      }),
    dbRefresh: () => {
      refreshing ??= refreshDbAndRescan(pipeline, db.store, db.options).finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
  };
}

/** A job's cadence: the rescan sweep's comes from PORTCULLIS_RESCAN_SCHEDULE, the others are fixed. */
export function jobCadence(
  job: JobName,
  settings: Pick<Settings, "PORTCULLIS_RESCAN_SCHEDULE"> = {
    PORTCULLIS_RESCAN_SCHEDULE: readSetting("PORTCULLIS_RESCAN_SCHEDULE"),
  },
): Cadence {
  return job === "rescan" ? parseCadence(settings.PORTCULLIS_RESCAN_SCHEDULE) : JOB_SCHEDULES[job].cadence;
}
