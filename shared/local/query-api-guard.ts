import { isIP } from "node:net";
import type { HttpDeps } from "../http/http-deps.js";
import { errorResponse } from "../http/http-types.js";
import { ROUTE_LIST, type RouteDefinition } from "../http/routes.js";
import { isAuthorizedHook } from "../hooks/hook-auth.js";

/** Whether `host` (what `serve` listens on) can only be reached from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return false;
}

/**
 * The routes `serve` answers. In Azure the query API and `POST /api/scans` sit behind a function
 * key; locally, once `serve` listens beyond loopback, they need the hooks' token instead (a route
 * marked `localAuth: "hook-token"`, such as the DB refresh, needs it even on loopback).
 */
export function localRoutes(requireToken: boolean): readonly RouteDefinition[] {
  return ROUTE_LIST.map((route) =>
    route.authLevel !== "function" || (!requireToken && route.localAuth !== "hook-token")
      ? route
      : {
          ...route,
          handle: (req, deps: HttpDeps) =>
            isAuthorizedHook(req.headers, deps.hookAuth)
              ? route.handle(req, deps)
              : Promise.resolve(
                  errorResponse(
                    401,
                    "this API needs the hook token (Authorization: Bearer …) when serve listens beyond loopback",
                    {
                      "WWW-Authenticate": "Bearer",
                    },
                  ),
                ),
        },
  );
}
