import type { BlobStore } from "../ports/blob-store.js";
import { type DbRefreshResult, refreshDbAndRescan } from "../stages/jobs/db-refresh.js";
import { enqueueRescans } from "../stages/jobs/scheduled-rescan.js";
import { type JobName, rescanRunId } from "../stages/jobs/schedules.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import type { UpdateOptions } from "../vulndb/db-update.js";
import type { Settings } from "./settings.js";

/** Each timer job bound to the pipeline and its settings: what both hosts call on their schedule. */
export interface JobRunners extends Record<JobName, () => Promise<unknown>> {
  /** resolves to the number of images sent to matching again */
  rescan(): Promise<number>;
  /** the feeds updated, then the targeted rescans (also `POST /api/db/refresh`) */
  dbRefresh(): Promise<DbRefreshResult>;
}

export function jobRunners(
  pipeline: PipelineDeps,
  settings: Settings,
  db: { store: BlobStore; options: UpdateOptions },
): JobRunners {
  // one DB refresh at a time: the timer and `POST /api/db/refresh` arriving together share one run
  let refreshing: Promise<DbRefreshResult> | undefined;
  return {
    rescan: () =>
      enqueueRescans(pipeline, {
        olderThanHours: settings.PORTCULLIS_RESCAN_AFTER_HOURS,
        runId: rescanRunId(pipeline.now()),
      }),
    dbRefresh: () => {
      refreshing ??= refreshDbAndRescan(pipeline, db.store, db.options).finally(() => {
        refreshing = undefined;
      });
      return refreshing;
    },
  };
}
