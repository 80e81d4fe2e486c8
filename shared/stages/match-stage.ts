import { inventoryFromStoredReports } from "../analysis/stored-inventory.js";
import { messageId, type MatchingMessage, type VerdictMessage } from "../model/messages.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import type { Inventory } from "../model/report.js";
import { failRescanImage } from "./rescan-runs.js";
import { attemptPart, readScan, type ScanState } from "./scan-state.js";
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

  if (msg.reason === "rescan") return rematch(msg, found.state, deps);
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
  await matchAndSend(msg, scan, inventory, deps);
}

/**
 * A rescan re-matches the stored inventory and nothing else. A missing or corrupt inventory fails
 * the rescan of this image alone, with the reason in its rescan record: the image keeps its previous
 * verdict (the scan is not failed, the gate does not turn to "scan failed") and the others go on.
 */
async function rematch(msg: MatchingMessage, scan: ScanState, deps: PipelineDeps): Promise<void> {
  let inventory: Inventory | undefined;
  let problem: string | undefined;
  try {
    inventory = await readInventory(deps.blobs, msg.inventoryKey);
    if (!inventory) problem = `its stored inventory ${msg.inventoryKey} is missing`;
  } catch (err) {
    problem = `its stored inventory ${msg.inventoryKey} is unreadable: ${oneLine(err)}`;
  }
  if (!inventory) {
    const reason = `rescan of ${msg.image.ref} failed: ${problem}; the previous verdict stands (push the image again to rebuild it)`;
    deps.log(`matching: ${reason}`);
    if (msg.rescanId) {
      const { registry, repository, digest } = msg.image;
      await failRescanImage(deps.tables, msg.rescanId, { registry, repository, digest }, reason, deps.now());
    }
    return;
  }
  await matchAndSend(msg, scan, inventory, deps);
}

const oneLine = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").slice(0, 300);

async function matchAndSend(
  msg: MatchingMessage,
  scan: ScanState,
  inventory: Inventory,
  deps: PipelineDeps,
): Promise<void> {
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
  // a rescan's verdict is a new message even on the same DB version (duplicate detection would drop it)
  const part = msg.rescanId ? `${db.version}.${msg.rescanId}` : db.version;
  await deps.bus.send("verdict", body, {
    messageId: messageId("verdict", msg.scanId, attemptPart(scan, part)),
  });
}
