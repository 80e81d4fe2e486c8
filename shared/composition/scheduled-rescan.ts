import { type MatchingMessage, messageId } from "../model/messages.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import { identityOf } from "../stages/resolve-scan.js";
import { readScan } from "../stages/scan-state.js";
import { TABLES } from "../stages/tables.js";

export interface RescanOptions {
  /** images whose last verdict is older than this are re-matched */
  olderThanHours: number;
  /** …or whose verdict was made against another DB version (after a DB update) */
  unlessDbVersion?: string;
  /** identifies this run in the message ids, so it is not taken for a duplicate of the last one */
  runId: string;
}

/**
 * The rescan timer: re-match the stored inventory of every image scanned before the cutoff (or on
 * an older DB) by sending `matching` with reason `rescan` — nothing is pulled again.
 */
export async function enqueueRescans(deps: PipelineDeps, options: RescanOptions): Promise<number> {
  const cutoff = deps.now().getTime() - options.olderThanHours * 3_600_000;
  let sent = 0;
  for await (const row of deps.tables.query(TABLES.images, {})) {
    const scannedAt = Date.parse(String(row.properties.scannedAt ?? ""));
    const stale = !Number.isFinite(scannedAt) || scannedAt <= cutoff;
    const otherDb =
      options.unlessDbVersion !== undefined && row.properties.dbVersion !== options.unlessDbVersion;
    if (!stale && !otherDb) continue;
    const scan = await readScan(deps.tables, String(row.properties.scanId ?? ""));
    const inventoryKey = String(row.properties.inventoryKey ?? "");
    if (scan?.state.status !== "done" || !inventoryKey) continue;
    const body: MatchingMessage = {
      type: "matching",
      v: 1,
      scanId: scan.state.scanId,
      image: identityOf(scan.state),
      inventoryKey,
      reason: "rescan",
    };
    await deps.bus.send("matching", body, {
      messageId: messageId("matching", scan.state.scanId, `rescan-${options.runId}`),
    });
    sent++;
  }
  if (sent > 0) deps.log(`rescan ${options.runId}: ${sent} image(s) re-matched`);
  return sent;
}
