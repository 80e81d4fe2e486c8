import { ZodError, z } from "zod";
import { inventoryFromStoredReports } from "../analysis/stored-inventory.js";
import { ScanError } from "../model/errors.js";
import type { Inventory } from "../model/report.js";
import { messageId, type MatchingMessage, type VerdictMessage } from "../model/messages.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { attemptPart, readScan } from "./scan-state.js";
import { readInventory, storeInventory, storeMatches } from "./stage-blobs.js";
import { blobKeys } from "./tables.js";
import { recordRescanFailure } from "./verdict-history.js";

/**
 * matching: squash the stored layer reports into the inventory (stored once, content-addressed),
 * match it against the current DB, and hand the matches to the verdict stage. A rescan starts here
 * with the stored inventory: no image is pulled again.
 */
export async function matchStage(msg: MatchingMessage, deps: PipelineDeps): Promise<void> {
  const found = await readScan(deps.tables, msg.scanId);
  if (!found) {
    deps.log(`matching for unknown scan ${msg.scanId}: dropped`);
    return;
  }
  const scan = found.state;
  if (scan.status === "failed") return;

  let inventory: Inventory | undefined;
  try {
    inventory = await readInventory(deps.blobs, msg.inventoryKey);
  } catch (err) {
    // a damaged inventory fails its rescan visibly (the scan's own matching retries: it may be
    // mid-write); a storage error is retried either way
    const damaged = err instanceof SyntaxError || err instanceof ZodError;
    if (msg.reason !== "rescan" || !damaged) throw err;
    await failRescan(msg, deps, `stored inventory ${msg.inventoryKey} is corrupt: ${describe(err)}`);
    return;
  }
  if (!inventory) {
    try {
      inventory = await inventoryFromStoredReports(
        { identity: msg.image, manifestMediaType: "", configDigest: "", config: {}, layers: scan.layers },
        {
          store: deps.blobs,
          ...(deps.analyzers ? { analyzers: deps.analyzers } : {}),
          ...(deps.allowForeignLayers ? { allowForeignLayers: true } : {}),
        },
      );
    } catch (err) {
      // a rescan never pulls: without the inventory or the layer reports, only a new scan can help
      if (msg.reason !== "rescan" || !(err instanceof ScanError)) throw err;
      await failRescan(msg, deps, `stored inventory ${msg.inventoryKey} is missing, and ${err.message}`);
      return;
    }
    await storeInventory(deps.blobs, msg.inventoryKey, inventory);
  }
  const { matches, db } = await deps.match(inventory);
  const matchesKey = blobKeys.matches(msg.scanId, db.version);
  await storeMatches(deps.blobs, matchesKey, { db, matches });
  const body: VerdictMessage = {
    type: "verdict",
    v: 1,
    scanId: msg.scanId,
    image: msg.image,
    inventoryKey: msg.inventoryKey,
    reportKey: matchesKey,
    dbVersion: db.version,
    ...(msg.cause ? { cause: msg.cause } : {}),
  };
  await deps.bus.send("verdict", body, {
    messageId: messageId("verdict", msg.scanId, attemptPart(scan, db.version)),
  });
}

const describe = (err: unknown) =>
  err instanceof ZodError
    ? `not an inventory (${z.prettifyError(err).split("\n")[0]})`
    : err instanceof Error
      ? err.message
      : String(err);

/** A rescan that cannot run for this image: said in the log and in the image's record; the others go on. */
async function failRescan(msg: MatchingMessage, deps: PipelineDeps, reason: string): Promise<void> {
  deps.log(`rescan of ${msg.image.ref} failed: ${reason}`);
  await recordRescanFailure(deps.blobs, msg.image, {
    at: deps.now().toISOString(),
    cause: msg.cause ?? "scheduled",
    reason,
  });
}
