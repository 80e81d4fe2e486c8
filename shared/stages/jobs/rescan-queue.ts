import type { RescanCause } from "../../model/messages.js";
import type { BusSender } from "../../ports/bus.js";
import type { TableStore } from "../../ports/table-store.js";
import { readScan } from "../scan-state.js";
import type { ScannedImage } from "../scanned-images.js";
import { writeRescanImages } from "../rescan-runs.js";
import { matchingMessage } from "../send-matching.js";

/** What queuing a rescan needs: the HTTP routes have it as well as the pipeline. */
export interface RescanQueueDeps {
  tables: TableStore;
  bus: BusSender;
  now(): Date;
  log(message: string): void;
}

/** Images handled at once: each costs a scan read, a progress row and a send. */
export const DEFAULT_RESCAN_BATCH = 32;

/** How a rescan holds back while the matching queue is deep (pushes share that queue). */
export interface QueueDepthLimit {
  /** hold back while `matching` holds more than this many messages (0 = never hold back) */
  maxDepth: number;
  /** how long to wait before asking again (default 1 s) */
  pollMs?: number;
  /** how to wait (tests pass a clock of their own) */
  sleep?(ms: number): Promise<void>;
}

const warnedNoDepth = new WeakSet<object>();
const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the matching queue is no deeper than the limit, calling `whileWaiting` on every wait
 * (the run's heartbeat). A bus that cannot tell its depth holds nothing back, and says so once.
 */
export async function holdWhileQueueIsDeep(
  deps: RescanQueueDeps,
  label: string,
  limit: QueueDepthLimit | undefined,
  whileWaiting?: () => Promise<void>,
): Promise<void> {
  if (!limit || limit.maxDepth <= 0) return;
  if (!deps.bus.depth) {
    if (!warnedNoDepth.has(deps.bus))
      deps.log(`rescan ${label}: this bus cannot tell its queue depth; batches are not held back`);
    warnedNoDepth.add(deps.bus);
    return;
  }
  let held = 0;
  for (;;) {
    let depth: number;
    try {
      depth = await deps.bus.depth("matching");
    } catch (err) {
      // a depth nobody can read must not stop the rescan: go on, and say why
      deps.log(`rescan ${label}: matching queue depth unreadable (${(err as Error).message}); not held back`);
      return;
    }
    if (depth <= limit.maxDepth) {
      if (held > 0)
        deps.log(`rescan ${label}: matching queue down to ${depth}; going on after ${held} wait(s)`);
      return;
    }
    if (held++ === 0)
      deps.log(`rescan ${label}: matching queue holds ${depth} (> ${limit.maxDepth}); holding back`);
    await whileWaiting?.();
    await (limit.sleep ?? sleepFor)(limit.pollMs ?? 1000);
  }
}

/**
 * Sends one batch of stored images to matching again, from their stored inventories (no pull), each
 * with a progress row written first. An image with no completed scan or no inventory is recorded
 * as failed, with the reason, and the others go on.
 */
export async function queueRescanBatch(
  deps: RescanQueueDeps,
  run: { rescanId: string; cause: RescanCause },
  images: readonly ScannedImage[],
  /** progressRows false: send only, the rows are there from before (a resumed run) */
  options: { progressRows?: boolean } = {},
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
  if (options.progressRows !== false)
    await writeRescanImages(
      deps.tables,
      run.rescanId,
      planned.map((p) => p.row),
    );
  // one batch send: on the local store one commit for all of them instead of an fsync per image
  const messages = planned.flatMap(({ send }) =>
    send
      ? [
          matchingMessage(send.state, {
            reason: "rescan",
            runId: run.rescanId,
            inventoryKey: send.inventoryKey,
            cause: run.cause,
            rescanId: run.rescanId,
          }),
        ]
      : [],
  );
  if (messages.length > 0) await deps.bus.sendBatch("matching", messages);
  const queued = messages.length;
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
