import type { HeaderBag } from "../hooks/headers.js";
import { isAuthorizedHook } from "../hooks/hook-auth.js";
import { MalformedEventError, type PushEvent } from "../hooks/push-event.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { readJsonBody } from "./json-body.js";
import { acceptPushes } from "./push-intake.js";

export type PushEventParser = (body: unknown, headers: HeaderBag) => PushEvent[];

/** 401 unless the request carries the configured hook token or shared secret. */
export function unauthorizedHook(req: RouteRequest, deps: HttpDeps): RouteResponse | undefined {
  if (isAuthorizedHook(req.headers, deps.hookAuth)) return undefined;
  return errorResponse(401, "missing or wrong hook token", {
    "WWW-Authenticate": 'Bearer realm="portcullis hooks"',
  });
}

/** Parses a push notification; a body that is not what the endpoint takes is a 400 with the reason. */
export function parsePushBody(
  parse: PushEventParser,
  req: RouteRequest,
): { ok: true; events: PushEvent[] } | { ok: false; response: RouteResponse } {
  const body = readJsonBody(req.rawBody);
  if (!body.ok) return body;
  try {
    return { ok: true, events: parse(body.value, req.headers) };
  } catch (err) {
    if (err instanceof MalformedEventError) return { ok: false, response: errorResponse(400, err.message) };
    throw err;
  }
}

/** A registry hook (Distribution, ACR webhook, Harbor): authenticate, parse, start scans. */
export function registryHook(parse: PushEventParser) {
  return async (req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> => {
    const denied = unauthorizedHook(req, deps);
    if (denied) return denied;
    const parsed = parsePushBody(parse, req);
    if (!parsed.ok) return parsed.response;
    return acceptPushes(parsed.events, deps);
  };
}
