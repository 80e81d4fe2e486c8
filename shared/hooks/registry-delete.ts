import { formatImageRef } from "../model/image-reference.js";
import { scanIdOf } from "../model/messages.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import { trackingMessage } from "../tracking/tracking-message.js";
import { abandonEvent, claimEvent, markEventSent } from "./event-claim.js";
import { dedupeKeys, type PushEvent } from "./push-event.js";

export interface DeleteIntakeDeps {
  tables: TableStore;
  bus: BusSender;
  now(): Date;
  log(message: string): void;
  /** whether GitHub tracking is on: without it a delete has nothing to change */
  tracking?: unknown;
}

/**
 * Registry delete events → tracking messages (`cause: "deleted"`), each event at most once, never a
 * scan. The tracking stage takes the digest (an index's: its platform images too) out of every
 * stream of the repository that points at it, and closes a stream's issue when nothing it pointed
 * at remains. A delete that names only a tag (Distribution 3) removes no image but ends what the
 * tag named: its message has no digest (""), and the tag's stream lets go of the images only that
 * tag named.
 */
export async function acceptDeleteEvents(
  events: readonly PushEvent[],
  deps: DeleteIntakeDeps,
): Promise<{ tracked: number; duplicates: number; inProgress: number; ignored: number }> {
  const out = { tracked: 0, duplicates: 0, inProgress: 0, ignored: 0 };
  for (const event of events) {
    const name = `${event.registry}/${event.repository}${event.digest ? `@${event.digest}` : `:${event.tag}`}`;
    if (!deps.tracking || !(event.digest || event.tag)) {
      out.ignored++;
      deps.log(
        `delete ${event.source}: ${name}: ${deps.tracking ? "names neither a digest nor a tag" : "GitHub tracking is off"}`,
      );
      continue;
    }
    const key = dedupeKeys(event).event;
    const now = deps.now();
    const claim = await claimEvent(deps.tables, key, now);
    if (claim.kind === "duplicate") out.duplicates++;
    if (claim.kind === "in-progress") out.inProgress++;
    if (claim.kind !== "claimed") continue;
    const repository = { registry: event.registry, repository: event.repository };
    const named = event.digest ? { ...repository, digest: event.digest } : { ...repository, tag: event.tag };
    const image = { ...repository, digest: event.digest ?? "" };
    const { body, messageId } = trackingMessage({
      scanId: scanIdOf(named),
      image: {
        ...image,
        ref: formatImageRef(named),
        tags: event.tag ? [event.tag] : [],
        platform: { os: "unknown", architecture: "unknown" },
      },
      reportKey: "deleted",
      verdict: { decision: "pass", reasons: [] },
      dbVersion: "deleted",
      cause: "deleted",
      at: event.occurredAt ?? now.toISOString(),
      ...(event.tag ? { tag: event.tag } : {}),
      run: `delete-${key}`,
    });
    try {
      await deps.bus.send("tracking", body, { messageId });
    } catch (err) {
      await abandonEvent(deps.tables, key, claim.etag).catch(() => {});
      throw err;
    }
    await markEventSent(deps.tables, key, now);
    deps.log(`delete ${event.source}: ${name} → tracking`);
    out.tracked++;
  }
  return out;
}
