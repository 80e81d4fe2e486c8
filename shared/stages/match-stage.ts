import { inventoryFromStoredReports } from "../analysis/stored-inventory.js";
import { messageId, type MatchingMessage, type VerdictMessage } from "../model/messages.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { attemptPart, readScan } from "./scan-state.js";
import { readInventory, storeInventory, storeMatches } from "./stage-blobs.js";
import { blobKeys } from "./tables.js";

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

  let inventory = await readInventory(deps.blobs, msg.inventoryKey);
  if (!inventory) {
    inventory = await inventoryFromStoredReports(
      { identity: msg.image, manifestMediaType: "", configDigest: "", config: {}, layers: scan.layers },
      {
        store: deps.blobs,
        ...(deps.analyzers ? { analyzers: deps.analyzers } : {}),
        ...(deps.allowForeignLayers ? { allowForeignLayers: true } : {}),
      },
    );
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
    ...(msg.request ? { request: msg.request } : {}),
  };
  // a person's request is a run of its own: with an unchanged DB its id must still differ from the last verdict's
  const run = attemptPart(scan, msg.request ? `${db.version}.${msg.request}` : db.version);
  await deps.bus.send("verdict", body, { messageId: messageId("verdict", msg.scanId, run) });
}
