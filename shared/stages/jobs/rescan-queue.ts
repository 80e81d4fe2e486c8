import type { RescanCause } from "../../model/messages.js";
import type { BusSender } from "../../ports/bus.js";
import type { TableStore } from "../../ports/table-store.js";
import { readScan } from "../scan-state.js";
import type { ScannedImage } from "../scanned-images.js";
import { writeRescanImages } from "../rescan-runs.js";
import { sendMatching } from "../send-matching.js";

/** What queuing a rescan needs: the HTTP routes have it as well as the pipeline. */
export interface RescanQueueDeps {
  tables: TableStore;
  bus: BusSender;
  now(): Date;
  log(message: string): void;
}

/** Images handled at once: each costs a scan read, a progress row and a send. */
export const DEFAULT_RESCAN_BATCH = 32;

/**
 * Sends one batch of stored images to matching again, from their stored inventories (no pull), each
 * with a progress row written first. An image with no completed scan or no inventory is recorded
 * as failed, with the reason, and the others go on.
 */
export async function queueRescanBatch(
  deps: RescanQueueDeps,
  run: { rescanId: string; cause: RescanCause },
  images: readonly ScannedImage[],
): Promise<{ queued: number; failed: number }> {
  // every progress row first, in one batch (a row per image, one commit), then the sends
  const planned = await Promise.all(
    images.map(async (image) => {
      const key = { registry: image.registry, repository: image.repository, digest: image.digest };
      const queuedAt = deps.now().toISOString();
      const scan = await readScan(deps.tables, image.scanId);
      if (scan?.state.status !== "done" || !image.inventoryKey) {
        const reason = !scan
          ? "its scan record is gone"
          : !image.inventoryKey
            ? "no stored inventory"
            : `its scan is ${scan.state.status}`;
        return { row: { ...key, state: "failed" as const, queuedAt, reason } };
      }
      return {
        row: { ...key, state: "queued" as const, queuedAt },
        send: { state: scan.state, inventoryKey: image.inventoryKey },
      };
    }),
  );
  await writeRescanImages(
    deps.tables,
    run.rescanId,
    planned.map((p) => p.row),
  );
  let queued = 0;
  await Promise.all(
    planned.map(async ({ send }) => {
      if (!send) return;
      await sendMatching(deps.bus, send.state, {
        reason: "rescan",
        runId: run.rescanId,
        inventoryKey: send.inventoryKey,
        cause: run.cause,
        rescanId: run.rescanId,
      });
      queued++;
    }),
  );
  const failed = planned.length - planned.filter((p) => p.send).length;
  return { queued, failed };
}

/** Groups an image stream into batches (the sweep and the historical rescan go batch by batch). */
export async function* inBatches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
