import { cloudEventsAbuseProtection, eventGridValidationResponse } from "../hooks/event-grid-validation.js";
import { parseEventGridEvents } from "../hooks/event-grid.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { readJsonBody } from "./json-body.js";
import { acceptPushes } from "./push-intake.js";
import { parsePushBody, unauthorizedHook } from "./registry-hook.js";

/**
 * `OPTIONS|POST /api/hooks/eventgrid`: ACR ImagePushed in the Event Grid or CloudEvents schema.
 * The two subscription handshakes are answered before authentication: Event Grid proves nothing
 * on them and they reveal nothing but the code it sent.
 */
export async function eventGridHook(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  if (req.method.toUpperCase() === "OPTIONS") {
    const handshake = cloudEventsAbuseProtection(
      req.method,
      req.headers,
      deps.eventGridAllowedOrigins ? { allowedOrigins: deps.eventGridAllowedOrigins } : {},
    );
    if (!handshake) return errorResponse(400, "OPTIONS without WebHook-Request-Origin");
    if (handshake.status === 403) return errorResponse(403, handshake.reason);
    return { status: 200, headers: handshake.headers };
  }
  const body = readJsonBody(req.rawBody);
  if (!body.ok) return body.response;
  const validation = eventGridValidationResponse(body.value);
  if (validation) {
    deps.log("event grid: subscription validated");
    return { status: 200, body: validation };
  }
  const denied = unauthorizedHook(req, deps);
  if (denied) return denied;
  const parsed = parsePushBody(parseEventGridEvents, req);
  if (!parsed.ok) return parsed.response;
  return acceptPushes(parsed.events, deps);
}
