import { messageId, type ScanRequestMessage, scanIdOf, type Trigger } from "../model/messages.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import { dedupeKeys, type PushEvent } from "../registry/events/push-event.js";
import { TABLES } from "./tables.js";

export interface IntakeDeps {
  tables: TableStore;
  bus: BusSender;
  now(): Date;
}

/** The same manifest announced again within this window (a second webhook) starts no second scan. */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 600;

/** A scan request for an image: one per (image, tag), so a second tag still reaches the scan's row. */
export function scanRequest(
  image: { registry: string; repository: string; tag?: string; digest?: string },
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
 * Push events → scan requests, each event at most once: an event id seen before is a redelivery;
 * the same (digest, tag) seen within the window is the same push announced twice.
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
    const seen = await deps.tables.insertIfAbsent(TABLES.events, "event", keys.event, {
      seenAt: now.toISOString(),
    });
    if (!seen.ok) {
      duplicates++;
      continue;
    }
    if (keys.digest && !(await claimDigest(deps, `${keys.digest}#${event.tag ?? ""}`, now, windowMs))) {
      duplicates++;
      continue;
    }
    const request = scanRequest(event, { kind: "push", eventId: event.eventId, source: event.source });
    await deps.bus.send("scan-requests", request.body, { messageId: request.messageId });
    accepted.push(request.body);
  }
  return { accepted, duplicates };
}

/** True when this call may scan the digest: no claim yet, or the last one is older than the window. */
async function claimDigest(deps: IntakeDeps, key: string, now: Date, windowMs: number): Promise<boolean> {
  const props = { seenAt: now.toISOString() };
  const first = await deps.tables.insertIfAbsent(TABLES.events, "digest", key, props);
  if (first.ok) return true;
  const row = await deps.tables.get(TABLES.events, "digest", key);
  if (!row) return (await deps.tables.insertIfAbsent(TABLES.events, "digest", key, props)).ok;
  const last = Date.parse(String(row.properties.seenAt));
  if (Number.isFinite(last) && now.getTime() - last < windowMs) return false;
  return (await deps.tables.updateIfMatch(TABLES.events, "digest", key, props, row.etag)).ok;
}
