import type { ImageIdentity } from "../model/image.js";
import { messageId, scanIdOf, type TrackingMessage } from "../model/messages.js";
import type { Verdict } from "../model/report.js";

/**
 * The message that asks the tracking stage to bring a stream's issue up to date. Its id is made
 * from what it stands for (a verdict run, a push, a delete event), never from the clock: a
 * redelivered verdict sends the same id, which the bus drops; tracking is idempotent besides.
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
  /** which run this is: `verdictRun(…)`, a push's event id, a delete's event id */
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
    run: input.run,
  };
  return { body, messageId: trackingMessageId(body) };
}

/** The id of a tracking message, or of its n-th put-back while GitHub could not be reached. */
export function trackingMessageId(msg: TrackingMessage, attempt?: number): string {
  const run = msg.run ?? `${msg.dbVersion}.${msg.at ?? ""}`;
  const part = `${msg.cause ?? "verdict"}-${msg.tag ?? ""}-${run}`;
  return messageId("tracking", msg.scanId, attempt ? `${part}-retry-${attempt}` : part);
}

/**
 * One verdict run: the DB version it matched against, the scan's attempt, the rescan cause and the
 * person's request or the rescan run. The same verdict delivered again is the same run; a new one differs in one of them.
 */
export function verdictRun(
  verdict: { dbVersion: string; cause?: string; request?: string; rescanId?: string },
  scanAttempt?: number,
): string {
  return [
    verdict.dbVersion,
    scanAttempt ? `r${scanAttempt}` : "",
    verdict.cause ?? "scan",
    verdict.request ?? "",
    verdict.rescanId ?? "",
  ]
    .join(".")
    .replace(/\.+$/, "");
}

/** An already-scanned digest pushed again: the stream moves to it (report and verdict are read back from the tables). */
export function movedMessage(
  image: ImageIdentity,
  decision: string | undefined,
  tag: string | undefined,
  now: Date,
  /** the push event's id: a redelivered push is the same move */
  eventId?: string,
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
    run: eventId ? `push-${eventId}` : `push-${image.digest}-${at}`,
  });
}
