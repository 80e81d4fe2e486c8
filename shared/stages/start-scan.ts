import { messageId, type ScanRequestMessage, scanIdOf, type Trigger } from "../model/messages.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import { createRequestScan } from "./scan-state.js";

export interface StartScanDeps {
  tables: TableStore;
  bus: BusSender;
  now(): Date;
}

export interface ScanTarget {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** A scan request for an image: one per (image, tag), so a second tag still reaches the scan's row. */
export function scanRequest(
  image: ScanTarget,
  trigger: Trigger,
  platform?: string,
): { body: ScanRequestMessage; messageId: string } {
  const scanId = scanIdOf(image);
  const body: ScanRequestMessage = {
    type: "scan-request",
    v: 1,
    scanId,
    image: {
      registry: image.registry,
      repository: image.repository,
      ...(image.tag ? { tag: image.tag } : {}),
      ...(image.digest ? { digest: image.digest } : {}),
    },
    trigger,
    ...(platform ? { platform } : {}),
  };
  const part = trigger.kind === "manual" ? `manual-${Date.now()}` : `tag-${image.tag ?? ""}`;
  return { body, messageId: messageId("scan-requests", scanId, part) };
}

/**
 * Starts a scan: the request's row first (the status API and the gate answer "queued" before a
 * worker runs), then the request on the bus. Every way in — hooks, the API — starts scans here.
 */
export async function startScan(
  deps: StartScanDeps,
  image: ScanTarget,
  trigger: Trigger,
  platform?: string,
): Promise<ScanRequestMessage> {
  const request = scanRequest(image, trigger, platform);
  await createRequestScan(deps.tables, request.body, deps.now());
  await deps.bus.send("scan-requests", request.body, { messageId: request.messageId });
  return request.body;
}
