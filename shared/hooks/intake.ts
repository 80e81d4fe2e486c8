import type { ScanRequestMessage } from "../model/messages.js";
import { type StartScanDeps, startScan } from "../stages/start-scan.js";
import {
  abandonDigestWindow,
  abandonEvent,
  claimDigestWindow,
  claimEvent,
  markEventSent,
} from "./event-claim.js";
import { dedupeKeys, isDeleteEvent, type PushEvent } from "./push-event.js";

export type IntakeDeps = StartScanDeps;

/** The same manifest announced again within this window (a second webhook) starts no second scan. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 600;

/**
 * Push events → scan requests, each event at most once: the event's dedupe row is claimed with an
 * insert-if-absent (event-claim.ts), so concurrent deliveries cannot both pass; the same (digest,
 * tag) within the window is the same push announced twice. The claim becomes "sent" only once the
 * scan request is on the bus; a failed send drops it, and the caller answers with an error so the
 * registry redelivers instead of the push being dropped.
 */
export async function acceptPushEvents(
  events: readonly PushEvent[],
  deps: IntakeDeps,
  options: { dedupeWindowSeconds?: number } = {},
): Promise<{ accepted: ScanRequestMessage[]; duplicates: number; inProgress: number }> {
  const windowMs = (options.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS) * 1000;
  const accepted: ScanRequestMessage[] = [];
  let duplicates = 0;
  let inProgress = 0;
  for (const event of events) {
    // a delete is never a scan (registry-delete.ts takes it to tracking)
    if (isDeleteEvent(event)) continue;
    const keys = dedupeKeys(event);
    const now = deps.now();
    const claim = await claimEvent(deps.tables, keys.event, now);
    if (claim.kind === "duplicate") duplicates++;
    if (claim.kind === "in-progress") inProgress++;
    if (claim.kind !== "claimed") continue;
    const digestKey = keys.digest ? `${keys.digest}#${event.tag ?? ""}` : undefined;
    let digestEtag: string | undefined;
    try {
      digestEtag = digestKey
        ? await claimDigestWindow(deps.tables, digestKey, now, windowMs, keys.event)
        : undefined;
      if (digestKey && digestEtag === undefined) {
        duplicates++;
      } else {
        accepted.push(
          await startScan(deps, event, { kind: "push", eventId: event.eventId, source: event.source }),
        );
      }
    } catch (err) {
      await abandonEvent(deps.tables, keys.event, claim.etag).catch(() => {});
      if (digestKey && digestEtag)
        await abandonDigestWindow(deps.tables, digestKey, digestEtag).catch(() => {});
      throw err;
    }
    await markEventSent(deps.tables, keys.event, now);
  }
  return { accepted, duplicates, inProgress };
}
