import { inventoryImage } from "../analysis/inventory-image.js";
import { ScanError } from "../model/errors.js";
import { type MatchingMessage, messageId, type VerdictMessage } from "../model/messages.js";
import { type Inventory, InventorySchema } from "../model/report.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { ImageSource } from "../registry/image-source.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { attemptPart, readScan } from "./scan-state.js";
import { blobKeys } from "./tables.js";

/** Every layer report is in the cache by now, so squashing must not open a single blob. */
const cacheOnlySource: ImageSource = {
  ref: "layer-cache",
  resolve: () => Promise.reject(new Error("cache-only source cannot resolve")),
  openBlob: (layer) =>
    Promise.reject(
      new ScanError("layer-report-missing", `layer ${layer.digest} has no stored report`, {
        permanent: false,
      }),
    ),
};

export async function readJsonBlob<T>(
  store: BlobStore,
  key: string,
  parse: (v: unknown) => T,
): Promise<T | undefined> {
  const raw = await store.get(key);
  return raw ? parse(JSON.parse(raw.toString("utf8"))) : undefined;
}

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

  let inventory = await readJsonBlob(deps.blobs, msg.inventoryKey, (v) => InventorySchema.parse(v));
  if (!inventory) {
    inventory = await inventoryImage(
      cacheOnlySource,
      { identity: msg.image, manifestMediaType: "", configDigest: "", config: {}, layers: scan.layers },
      {
        store: deps.blobs,
        ...(deps.analyzers ? { analyzers: deps.analyzers } : {}),
        ...(deps.limits ? { limits: deps.limits } : {}),
        ...(deps.allowForeignLayers ? { allowForeignLayers: true } : {}),
      },
    );
    await deps.blobs.put(msg.inventoryKey, JSON.stringify(inventory), { contentType: "application/json" });
  }
  const { matches, db } = await deps.match(inventory);
  const matchesKey = blobKeys.matches(msg.scanId, db.version);
  await deps.blobs.put(matchesKey, JSON.stringify({ db, matches }), { contentType: "application/json" });
  const body: VerdictMessage = {
    type: "verdict",
    v: 1,
    scanId: msg.scanId,
    image: msg.image,
    inventoryKey: msg.inventoryKey,
    reportKey: matchesKey,
    dbVersion: db.version,
  };
  await deps.bus.send("verdict", body, {
    messageId: messageId("verdict", msg.scanId, attemptPart(scan, db.version)),
  });
}

export type { Inventory };
