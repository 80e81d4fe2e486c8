import type { ScanRequestMessage } from "../model/messages.js";
import type { TableStore } from "../ports/table-store.js";
import { createScan } from "../stages/scan-state.js";

/**
 * The request's scan row, written when the request is accepted: the status API and the gate answer
 * "queued" (409) before a worker picks the message up. resolveScan's own create is then a no-op.
 */
export async function recordQueuedScan(
  tables: TableStore,
  request: ScanRequestMessage,
  now: Date,
): Promise<void> {
  const { registry, repository, tag, digest } = request.image;
  const at = now.toISOString();
  await createScan(tables, {
    scanId: request.scanId,
    kind: "request",
    status: "queued",
    registry,
    repository,
    ...(digest ? { digest } : {}),
    ...(tag ? { tag } : {}),
    tags: tag ? [tag] : [],
    layers: [],
    pending: [],
    children: [],
    createdAt: at,
    updatedAt: at,
  });
}
