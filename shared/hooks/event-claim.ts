import type { TableStore } from "../ports/table-store.js";
import { TABLES } from "../stages/tables.js";

// The events table's one owner: a partition per kind of row (event, digest, github-delivery, refused).

/** A claim older than this was left by a process that died before sending: a redelivery takes it over. */
export const STALE_CLAIM_MS = 30_000;

export type ClaimOutcome =
  /** this caller owns the event now: send, then `markSent` (or `abandon` on failure) */
  | { kind: "claimed"; etag: string }
  /** seen and sent before: a duplicate */
  | { kind: "duplicate" }
  /** another delivery of the same event is being handled right now */
  | { kind: "in-progress" };

/**
 * Insert-if-absent on the event's dedupe row, so of any number of concurrent deliveries exactly one
 * goes on (check-then-write let several through). The row says "claimed" until the scan request is
 * on the bus, then "sent"; a claim left by a crash goes stale and the registry's redelivery takes it
 * over with an ETag-guarded write, so the push is not lost.
 */
export async function claimEvent(tables: TableStore, key: string, now: Date): Promise<ClaimOutcome> {
  const claim = { state: "claimed", seenAt: now.toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await tables.insertIfAbsent(TABLES.events, "event", key, claim);
    if (inserted.ok) return { kind: "claimed", etag: inserted.etag };
    const row = await tables.get(TABLES.events, "event", key);
    if (!row) continue; // abandoned between the insert and the read: try again
    // rows written before claims existed have no state: they were sent
    if ((row.properties.state ?? "sent") === "sent") return { kind: "duplicate" };
    const age = now.getTime() - Date.parse(String(row.properties.seenAt));
    if (!(age > STALE_CLAIM_MS)) return { kind: "in-progress" };
    const taken = await tables.updateIfMatch(TABLES.events, "event", key, claim, row.etag);
    if (taken.ok) return { kind: "claimed", etag: taken.etag };
  }
  return { kind: "in-progress" };
}

/** The scan request is on the bus: from now on every delivery of the event is a duplicate. */
export async function markEventSent(tables: TableStore, key: string, now: Date): Promise<void> {
  await tables.upsert(TABLES.events, "event", key, { state: "sent", seenAt: now.toISOString() });
}

/** The send failed: drop the claim so the registry's retry is not taken for a duplicate. */
export async function abandonEvent(tables: TableStore, key: string, etag: string): Promise<void> {
  await tables.delete(TABLES.events, "event", key, { etag });
}

/**
 * The same (digest, tag) announced by a second event within the window is the same push: the
 * first to insert (or to replace an expired row under its ETag) wins, atomically. The row names the
 * event that won it: that event's own redelivery (a process died after this claim, before the scan
 * request was sent) takes it back instead of being dropped as a duplicate. Returns the won row's
 * ETag, or undefined for a duplicate.
 */
export async function claimDigestWindow(
  tables: TableStore,
  key: string,
  now: Date,
  windowMs: number,
  eventKey: string,
): Promise<string | undefined> {
  const seen = { seenAt: now.toISOString(), event: eventKey };
  const inserted = await tables.insertIfAbsent(TABLES.events, "digest", key, seen);
  if (inserted.ok) return inserted.etag;
  const row = await tables.get(TABLES.events, "digest", key);
  const ours = row?.properties.event === eventKey;
  const retried = row
    ? !ours &&
      Number.isFinite(Date.parse(String(row.properties.seenAt))) &&
      now.getTime() - Date.parse(String(row.properties.seenAt)) < windowMs
      ? undefined
      : await tables.updateIfMatch(TABLES.events, "digest", key, seen, row.etag)
    : await tables.insertIfAbsent(TABLES.events, "digest", key, seen);
  return retried?.ok ? retried.etag : undefined;
}

/** The send failed: the digest is free again for the registry's retry. */
export async function abandonDigestWindow(tables: TableStore, key: string, etag: string): Promise<void> {
  await tables.delete(TABLES.events, "digest", key, { etag });
}

/** A GitHub webhook delivery handled before (its id is recorded once handled). */
export async function gitHubDeliverySeen(tables: TableStore, deliveryId: string): Promise<boolean> {
  return (await tables.get(TABLES.events, "github-delivery", deliveryId)) !== undefined;
}

/** Recorded once handled: a delivery that failed half-way is GitHub's to redeliver. */
export async function recordGitHubDelivery(tables: TableStore, deliveryId: string, now: Date): Promise<void> {
  await tables.upsert(TABLES.events, "github-delivery", deliveryId, { seenAt: now.toISOString() });
}

/** An event from a registry off the allow list, kept beside the events that were taken. */
export async function recordRefusedEvent(
  tables: TableStore,
  what: string,
  refusal: { registry: string; reason: string },
  now: Date,
): Promise<void> {
  await tables.upsert(TABLES.events, "refused", what.slice(0, 200), { ...refusal, at: now.toISOString() });
}
