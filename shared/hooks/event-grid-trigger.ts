import { parseEventGridEvents } from "./event-grid.js";
import { isDeleteEvent, MalformedEventError } from "./push-event.js";
import { acceptPushEvents, type IntakeDeps } from "./intake.js";
import { acceptDeleteEvents } from "./registry-delete.js";
import { ScanError } from "../model/errors.js";

/**
 * One event from an Event Grid trigger (the runtime did the handshake and authentication): an ACR
 * ImagePushed becomes a scan request, deduplicated like every other push; an ImageDeleted goes to tracking. A malformed event is
 * logged and dropped — redelivering it could never succeed.
 */
export async function acceptEventGridEvent(
  event: unknown,
  deps: IntakeDeps & { log(message: string): void; dedupeWindowSeconds?: number; tracking?: unknown },
): Promise<number> {
  let events: ReturnType<typeof parseEventGridEvents>;
  try {
    events = parseEventGridEvents(event, {});
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    deps.log(`event grid: dropped a malformed event: ${err.message}`);
    return 0;
  }
  // an ImageDeleted reaches tracking, never a scan
  const deletes = await acceptDeleteEvents(events.filter(isDeleteEvent), deps);
  const { accepted, inProgress } = await acceptPushEvents(
    events.filter((e) => !isDeleteEvent(e)),
    deps,
    deps.dedupeWindowSeconds !== undefined ? { dedupeWindowSeconds: deps.dedupeWindowSeconds } : {},
  );
  // Event Grid redelivers a failed event: the one in flight elsewhere may still fail
  if (inProgress + deletes.inProgress > 0)
    throw new ScanError(
      "delivery-in-progress",
      "a delivery of this event is being handled; Event Grid will retry",
      {
        permanent: false,
      },
    );
  return accepted.length;
}
