import { ANALYZERS, analyzerSetVersion } from "../analysis/registry.js";
import type { ImageIdentity } from "../model/image.js";
import { type MatchingMessage, messageId, type RescanCause } from "../model/messages.js";
import type { BusSender, OutgoingMessage } from "../ports/bus.js";
import { formatImageRef } from "../model/image-reference.js";
import { attemptPart, type ScanState } from "./scan-state.js";
import { blobKeys } from "./tables.js";

/** The image a platform scan stands for, as stage messages carry it. */
export function identityOf(state: ScanState): ImageIdentity {
  return {
    ref: formatImageRef({ registry: state.registry, repository: state.repository, digest: state.digest }),
    registry: state.registry,
    repository: state.repository,
    digest: state.digest ?? "",
    tags: state.tags,
    platform: state.platform ?? { os: "unknown", architecture: "unknown" },
  };
}

/** Why matching runs: a scan's join (once per attempt), or a rescan run over a stored inventory. */
export type MatchingTrigger =
  | { reason: "scan" }
  | { reason: "rescan"; runId: string; inventoryKey: string; cause: RescanCause; rescanId?: string };

/**
 * The `matching` message for a platform scan. Its id is deterministic per scan attempt (or per
 * rescan run), so a redelivered join or a rerun timer sends nothing twice.
 */
export function matchingMessage(
  state: ScanState,
  trigger: MatchingTrigger = { reason: "scan" },
): OutgoingMessage {
  const body: MatchingMessage = {
    type: "matching",
    v: 1,
    scanId: state.scanId,
    image: identityOf(state),
    inventoryKey:
      trigger.reason === "rescan"
        ? trigger.inventoryKey
        : blobKeys.inventory(state.digest ?? "", state.analyzerSet ?? analyzerSetVersion(ANALYZERS)),
    reason: trigger.reason,
    ...(trigger.reason === "rescan" ? { cause: trigger.cause } : {}),
    ...(trigger.reason === "rescan" && trigger.rescanId ? { rescanId: trigger.rescanId } : {}),
  };
  const part = trigger.reason === "rescan" ? `rescan-${trigger.runId}` : attemptPart(state, "scan");
  return { body, messageId: messageId("matching", state.scanId, part) };
}

/** Sends `matching` for one platform scan (many at once: `matchingMessage` and `sendBatch`). */
export async function sendMatching(
  bus: BusSender,
  state: ScanState,
  trigger: MatchingTrigger = { reason: "scan" },
): Promise<void> {
  const { body, ...options } = matchingMessage(state, trigger);
  await bus.send("matching", body, options);
}
