import type { PushEvent } from "../hooks/push-event.js";
import { TABLES } from "../stages/tables.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteResponse } from "./http-types.js";

/** A 403 for the first event naming a registry off the allow list (each refusal logged and recorded). */
export async function refuseUnlistedRegistries(
  events: readonly PushEvent[],
  deps: HttpDeps,
): Promise<RouteResponse | undefined> {
  let first: RouteResponse | undefined;
  for (const event of events) {
    const refused = await refuseUnlistedRegistry(event.registry, `${event.source}:${event.eventId}`, deps);
    first ??= refused;
  }
  return first;
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
  await deps.tables.upsert(TABLES.events, "refused", what.slice(0, 200), {
    registry,
    reason,
    at: deps.now().toISOString(),
  });
  return errorResponse(403, reason);
}
