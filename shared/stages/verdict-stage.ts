import { blobKeys } from "./tables.js";
import type { VerdictMessage } from "../model/messages.js";
import { ScanError } from "../model/errors.js";
import { applyVerdict } from "./apply-verdict.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { readScan } from "./scan-state.js";
import { readInventory, readMatches } from "./stage-blobs.js";

/**
 * verdict: read the inventory and the matches the matching stage stored, then apply the policy and
 * write the report and the tables (`apply-verdict.ts`, which a rescan's matching runs directly).
 */
export async function verdictStage(msg: VerdictMessage, deps: PipelineDeps): Promise<void> {
  const [found, inventory, stored] = await Promise.all([
    readScan(deps.tables, msg.scanId),
    readInventory(deps.blobs, msg.inventoryKey),
    readMatches(deps.blobs, msg.reportKey),
  ]);
  if (!found || found.state.status === "failed") return;
  if (!inventory)
    throw new ScanError("stage-blob-missing", `scan ${msg.scanId}: inventory blob missing`, {
      permanent: false,
    });
  if (stored) return applyVerdict(msg, found.state, inventory, stored, deps);
  // a re-verdict asked for after a rescan (an accepted risk): the rescan made its verdict without
  // storing matches, so the stored inventory is matched again, against the current DB
  const fresh = await deps.match(inventory);
  deps.log(
    `scan ${msg.scanId}: no stored matches for DB ${msg.dbVersion}; matched again (DB ${fresh.db.version})`,
  );
  const run = {
    ...msg,
    dbVersion: fresh.db.version,
    reportKey: blobKeys.matches(msg.scanId, fresh.db.version),
  };
  await applyVerdict(run, found.state, inventory, fresh, deps);
}
