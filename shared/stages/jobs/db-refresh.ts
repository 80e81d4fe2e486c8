import type { BlobStore } from "../../ports/blob-store.js";
import { type UpdateOptions, updateDb } from "../../vulndb/db-update.js";
import type { PipelineDeps } from "../pipeline-deps.js";
import { enqueueRescans } from "./scheduled-rescan.js";
import { dbRescanRunId } from "./schedules.js";

/**
 * The DB refresh timer: fetch the feeds (an unchanged feed costs one 304) and, when the DB changed,
 * re-match every image whose verdict was made against an older version.
 */
export async function refreshDbAndRescan(
  deps: PipelineDeps,
  dbStore: BlobStore,
  options: UpdateOptions,
): Promise<{ version: string; changed: boolean; rescans: number }> {
  const result = await updateDb(dbStore, { log: deps.log, ...options });
  const version = result.metadata.version;
  if (!result.changed) return { version, changed: false, rescans: 0 };
  const rescans = await enqueueRescans(deps, {
    olderThanHours: Number.POSITIVE_INFINITY,
    unlessDbVersion: version,
    runId: dbRescanRunId(version),
    cause: "db-update",
  });
  return { version, changed: true, rescans };
}
