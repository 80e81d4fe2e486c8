import type { PushEvent } from "../hooks/push-event.js";
import { recordRefusedEvent } from "../hooks/event-claim.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteResponse } from "./http-types.js";

/**
 * The events naming an allowed registry, and the first refusal (each refusal logged and recorded):
 * one foreign event in a batch must not drop the allowed pushes beside it.
 */
export async function splitUnlistedRegistries(
  events: readonly PushEvent[],
  deps: HttpDeps,
): Promise<{ allowed: PushEvent[]; refused?: RouteResponse }> {
  const allowed: PushEvent[] = [];
  let refused: RouteResponse | undefined;
  for (const event of events) {
    const refusal = await refuseUnlistedRegistry(event.registry, `${event.source}:${event.eventId}`, deps);
    if (refusal) refused ??= refusal;
    else allowed.push(event);
  }
  return { allowed, ...(refused ? { refused } : {}) };
}

/** undefined when `registry` is allowed; otherwise the refusal, logged and kept in the events table. */
export async function refuseUnlistedRegistry(
  registry: string,
  what: string,
  deps: HttpDeps,
): Promise<RouteResponse | undefined> {
  const list = deps.registryAllowList;
  if (!list || list.allows(registry)) return undefined;
  const reason = list.refusal(registry);
  deps.log(`refused ${what}: ${reason}`);
  await recordRefusedEvent(deps.tables, what, { registry, reason }, deps.now());
  return errorResponse(403, reason);
}
