import type { ScanRequestMessage } from "../model/messages.js";
import { dedupeKeys, type PushEvent } from "./push-event.js";
import { type StartScanDeps, startScan } from "../stages/start-scan.js";
import { TABLES } from "../stages/tables.js";

export type IntakeDeps = StartScanDeps;

/** The same manifest announced again within this window (a second webhook) starts no second scan. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 600;

/**
 * Push events → scan requests, each event at most once: an event id seen before is a redelivery;
 * the same (digest, tag) seen within the window is the same push announced twice. An event is
 * recorded as seen only once its scan request is on the bus: a send that fails (or a process that
 * dies before it) leaves the event to the registry's redelivery instead of dropping the push. Two
 * deliveries racing past the check send the same deterministic message, which the bus's duplicate
 * detection and the idempotent stages absorb.
 */
export async function acceptPushEvents(
  events: readonly PushEvent[],
  deps: IntakeDeps,
  options: { dedupeWindowSeconds?: number } = {},
): Promise<{ accepted: ScanRequestMessage[]; duplicates: number }> {
  const windowMs = (options.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS) * 1000;
  const accepted: ScanRequestMessage[] = [];
  let duplicates = 0;
  for (const event of events) {
    const keys = dedupeKeys(event);
    const now = deps.now();
    const digestKey = keys.digest ? `${keys.digest}#${event.tag ?? ""}` : undefined;
    if (
      (await deps.tables.get(TABLES.events, "event", keys.event)) ||
      (digestKey && (await seenWithin(deps, digestKey, now, windowMs)))
    ) {
      duplicates++;
      continue;
    }
    const request = await startScan(deps, event, {
      kind: "push",
      eventId: event.eventId,
      source: event.source,
    });
    const seen = { seenAt: now.toISOString() };
    await deps.tables.upsert(TABLES.events, "event", keys.event, seen);
    if (digestKey) await deps.tables.upsert(TABLES.events, "digest", digestKey, seen);
    accepted.push(request);
  }
  return { accepted, duplicates };
}

/** True when the (digest, tag) was scanned from a push less than the window ago. */
async function seenWithin(deps: IntakeDeps, key: string, now: Date, windowMs: number): Promise<boolean> {
  const row = await deps.tables.get(TABLES.events, "digest", key);
  if (!row) return false;
  const last = Date.parse(String(row.properties.seenAt));
  return Number.isFinite(last) && now.getTime() - last < windowMs;
}
