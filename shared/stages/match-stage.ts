import { ZodError } from "zod";
import { inventoryFromStoredReports } from "../analysis/stored-inventory.js";
import { messageId, type MatchingMessage, type VerdictMessage } from "../model/messages.js";
import type { Inventory } from "../model/report.js";
import { applyVerdict, storeVerdict } from "./apply-verdict.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { failRescanImage } from "./rescan-runs.js";
import { attemptPart, readScan, type ScanState } from "./scan-state.js";
import { readImageConfig, readInventory, storeInventory, storeMatches } from "./stage-blobs.js";
import { describeDamage } from "./inventory-damage.js";
import { blobKeys } from "./tables.js";
import { recordRescanFailure } from "./verdict-history.js";

/**
 * matching: squash the stored layer reports into the inventory (stored once, content-addressed),
 * match it against the current DB, and hand the matches to the verdict stage. A rescan starts here
 * with the stored inventory (no image is pulled again) and ends here: it makes its verdict at once
 * (`apply-verdict.ts`).
 */
export async function matchStage(msg: MatchingMessage, deps: PipelineDeps): Promise<void> {
  const found = await readScan(deps.tables, msg.scanId);
  if (!found) {
    deps.log(`matching for unknown scan ${msg.scanId}: dropped`);
    return;
  }
  const scan = found.state;
  if (scan.status === "failed") return;

  if (msg.reason === "rescan") return rematch(msg, scan, deps);
  let inventory = await readInventory(deps.blobs, msg.inventoryKey);
  if (!inventory) {
    inventory = await inventoryFromLayers(msg, scan, deps);
    await storeInventory(deps.blobs, msg.inventoryKey, inventory);
  }
  await matchAndSend(msg, scan, inventory, deps);
}

/** The inventory squashed from the stored layer reports, with the stored image config to audit. */
async function inventoryFromLayers(msg: MatchingMessage, scan: ScanState, deps: PipelineDeps) {
  // without its config the audit says the config checks were not made (image-config-not-audited)
  const config = scan.configDigest
    ? await readImageConfig(deps.blobs, blobKeys.config(scan.configDigest))
    : undefined;
  return inventoryFromStoredReports(
    {
      identity: msg.image,
      manifestMediaType: "",
      configDigest: config && scan.configDigest ? scan.configDigest : "",
      config: config ?? {},
      layers: scan.layers,
    },
    {
      store: deps.blobs,
      ...(deps.analyzers ? { analyzers: deps.analyzers } : {}),
      ...(deps.allowForeignLayers ? { allowForeignLayers: true } : {}),
    },
  );
}

/**
 * A rescan re-matches the stored inventory and pulls nothing, and makes the verdict at once. When it is missing or cannot be read,
 * the rescan of this image alone fails, with the reason in the image's verdict record and its rescan
 * run: the previous verdict stands and the others go on.
 */
async function rematch(msg: MatchingMessage, scan: ScanState, deps: PipelineDeps): Promise<void> {
  if (deps.matchAndDecideStored) {
    // the host's verdict thread reads the inventory too: the event loop neither parses nor re-serialises it
    const { ref, registry, repository } = msg.image;
    const done = await deps.matchAndDecideStored(msg.inventoryKey, {
      tags: scan.tags,
      ref,
      registry,
      repository,
    });
    if (done && "unreadable" in done) {
      const { corrupt } = done.unreadable;
      return rescanFailed(
        msg,
        deps,
        corrupt === undefined
          ? `stored inventory ${msg.inventoryKey} is missing`
          : `stored inventory ${msg.inventoryKey} is corrupt: ${corrupt}`,
      );
    }
    if (done) return storeVerdict(verdictOf(msg, done.db.version), scan, done, deps);
    // no DB on the thread's side yet: the path below fetches it (without asking the thread again)
  }
  let inventory: Inventory | undefined;
  let problem: string | undefined;
  try {
    inventory = await readInventory(deps.blobs, msg.inventoryKey);
  } catch (err) {
    // a damaged inventory fails its rescan visibly; a storage error is retried
    const damaged = err instanceof SyntaxError || err instanceof ZodError;
    if (!damaged) throw err;
    problem = `stored inventory ${msg.inventoryKey} is corrupt: ${describeDamage(err)}`;
  }
  // a rescan never pulls and never rebuilds: a missing inventory is a visible failure (push again to rebuild)
  if (!inventory && problem === undefined) problem = `stored inventory ${msg.inventoryKey} is missing`;
  if (!inventory) return rescanFailed(msg, deps, problem!);
  // the verdict follows here, not through the verdict queue: no matches blob to write and read back,
  // no second read of the inventory (a rescan of the whole fleet is mostly these)
  const { matches, db } = await deps.match(inventory);
  await applyVerdict(verdictOf(msg, db.version), scan, inventory, { matches, db }, deps);
}

/** A rescan whose inventory cannot be read: the reason on the image's verdict record and its rescan run. */
async function rescanFailed(msg: MatchingMessage, deps: PipelineDeps, problem: string): Promise<void> {
  const reason = `${problem}; the previous verdict stands (push the image again to rebuild it)`;
  deps.log(`rescan of ${msg.image.ref} failed: ${reason}`);
  await recordRescanFailure(deps.blobs, msg.image, {
    at: deps.now().toISOString(),
    cause: msg.cause ?? "scheduled",
    reason,
  });
  if (msg.rescanId) {
    const { registry, repository, digest } = msg.image;
    await failRescanImage(deps.tables, msg.rescanId, { registry, repository, digest }, reason, deps.now());
  }
}

/**
 * The verdict message for a matching message. `reportKey` names the matches blob; a rescan, whose
 * verdict is made here, stores none, but the key still names the verdict run (its verdict id).
 */
function verdictOf(msg: MatchingMessage, dbVersion: string): VerdictMessage {
  return {
    type: "verdict",
    v: 1,
    scanId: msg.scanId,
    image: msg.image,
    inventoryKey: msg.inventoryKey,
    reportKey: blobKeys.matches(msg.scanId, dbVersion),
    dbVersion,
    ...(msg.cause ? { cause: msg.cause } : {}),
    ...(msg.request ? { request: msg.request } : {}),
    ...(msg.rescanId ? { rescanId: msg.rescanId } : {}),
  };
}

async function matchAndSend(
  msg: MatchingMessage,
  scan: ScanState,
  inventory: Inventory,
  deps: PipelineDeps,
): Promise<void> {
  const { matches, db } = await deps.match(inventory);
  const body = verdictOf(msg, db.version);
  await storeMatches(deps.blobs, body.reportKey, { db, matches });
  // a rescan run or a person's request is a run of its own: on an unchanged DB its verdict id must
  // still differ from the last one's, or duplicate detection would drop it
  const part = [db.version, msg.rescanId, msg.request].filter(Boolean).join(".");
  await deps.bus.send("verdict", body, {
    messageId: messageId("verdict", msg.scanId, attemptPart(scan, part)),
  });
}
