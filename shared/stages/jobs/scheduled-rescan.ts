import type { RescanCause } from "../../model/messages.js";
import type { PipelineDeps } from "../pipeline-deps.js";
import { readScan } from "../scan-state.js";
import { queryScannedImages } from "../scanned-images.js";
import { sendMatching } from "../send-matching.js";

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
