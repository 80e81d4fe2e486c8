import { acceptPushEvents } from "../hooks/intake.js";
import { isDeleteEvent, type PushEvent } from "../hooks/push-event.js";
import { acceptDeleteEvents } from "../hooks/registry-delete.js";
import type { HttpDeps } from "./http-deps.js";
import { splitUnlistedRegistries } from "./registry-refusal.js";
import { errorResponse, type RouteResponse } from "./http-types.js";

/**
 * Push events → scan requests, delete events → tracking (never a scan); answered 202 with what was
 * started, how many deletes reached tracking, and how many were duplicates.
 */
export async function acceptPushes(events: readonly PushEvent[], deps: HttpDeps): Promise<RouteResponse> {
  const { allowed, refused } = await splitUnlistedRegistries(events, deps);
  if (refused && allowed.length === 0) return refused;
  const deletes = await acceptDeleteEvents(allowed.filter(isDeleteEvent), deps);
  const pushed = await acceptPushEvents(
    allowed.filter((e) => !isDeleteEvent(e)),
    deps,
    deps.dedupeWindowSeconds !== undefined ? { dedupeWindowSeconds: deps.dedupeWindowSeconds } : {},
  );
  const { accepted } = pushed;
  const duplicates = pushed.duplicates + deletes.duplicates;
  const inProgress = pushed.inProgress + deletes.inProgress;
  // another delivery of the same event is mid-flight: if it fails, this retry must not be lost
  if (inProgress > 0)
    return errorResponse(503, "a delivery of this event is being handled; retry", { "Retry-After": "2" });
  for (const request of accepted) {
    deps.log(
      `push ${request.trigger.source}: ${request.image.registry}/${request.image.repository} → scan ${request.scanId}`,
    );
  }
  return {
    status: 202,
    body: {
      accepted: accepted.map((r) => ({
        scanId: r.scanId,
        image: r.image,
        statusUrl: `/api/scans/${r.scanId}`,
      })),
      duplicates,
      ...(deletes.tracked + deletes.ignored > 0
        ? { deleted: { tracked: deletes.tracked, ignored: deletes.ignored } }
        : {}),
      // events for registries off the allow list (logged and recorded; the rest went on)
      ...(refused ? { refused: events.length - allowed.length } : {}),
      ignored: events.length === 0,
    },
  };
}
