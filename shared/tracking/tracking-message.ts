import type { ImageIdentity } from "../model/image.js";
import { messageId, scanIdOf, type TrackingMessage } from "../model/messages.js";
import type { Verdict } from "../model/report.js";

/**
 * The message that asks the tracking stage to bring a stream's issue up to date. Each verdict run
 * gets its own id (a rescan with the same DB can still change accepted risks); tracking is
 * idempotent, so a second copy writes nothing.
 */
export function trackingMessage(input: {
  scanId: string;
  image: ImageIdentity;
  reportKey: string;
  verdict: Verdict;
  dbVersion: string;
  cause: "verdict" | "moved" | "deleted";
  at: string;
  tag?: string;
  /** distinguishes this run from the last (a timestamp) */
  run: string;
}): { body: TrackingMessage; messageId: string } {
  const body: TrackingMessage = {
    type: "tracking",
    v: 1,
    scanId: input.scanId,
    image: input.image,
    reportKey: input.reportKey,
    verdict: input.verdict,
    dbVersion: input.dbVersion,
    cause: input.cause,
    at: input.at,
    ...(input.tag ? { tag: input.tag } : {}),
  };
  return {
    body,
    messageId: messageId("tracking", input.scanId, `${input.cause}-${input.tag ?? ""}-${input.run}`),
  };
}

/** An already-scanned digest pushed again: the stream moves to it (report and verdict are read back from the tables). */
export function movedMessage(
  image: ImageIdentity,
  decision: string | undefined,
  tag: string | undefined,
  now: Date,
): { body: TrackingMessage; messageId: string } {
  const at = now.toISOString();
  return trackingMessage({
    scanId: scanIdOf(image),
    image,
    reportKey: "stored",
    verdict: { decision: decision === "block" || decision === "fix" ? decision : "pass", reasons: [] },
    dbVersion: "stored",
    cause: "moved",
    at,
    ...(tag ? { tag } : {}),
    run: at,
  });
}
