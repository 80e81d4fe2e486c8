import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse, thrownResponse } from "./http-types.js";
import { ROUTE_LIST, type RouteDefinition } from "./routes.js";

export const API_PREFIX = "/api/";

/** Matches a path (below the prefix) against a route template; the template's parameters, or undefined. */
export function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const have = path.split("/");
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    const rest = /^\{\*(\w+)\}$/.exec(part);
    if (rest) {
      const value = have.slice(i).join("/");
      if (value === "") return undefined;
      params[rest[1]!] = value;
      return params;
    }
    const value = have[i];
    if (value === undefined || value === "") return undefined;
    const param = /^\{(\w+)\}$/.exec(part);
    if (param) params[param[1]!] = value;
    else if (part.toLowerCase() !== value.toLowerCase()) return undefined;
  }
  return have.length === want.length ? params : undefined;
}

function decodePath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/**
 * The local host's router over the same route table `functions/` registers: 404 for an unknown
 * path, 405 (with Allow) for a known path and the wrong method, 500 with a logged reason on a bug.
 */
export async function dispatch(
  req: RouteRequest,
  deps: HttpDeps,
  routes: readonly RouteDefinition[] = ROUTE_LIST,
): Promise<RouteResponse> {
  if (!req.path.startsWith(API_PREFIX)) return errorResponse(404, `no route for ${req.path}`);
  const below = decodePath(req.path.slice(API_PREFIX.length).replace(/\/+$/, ""));
  if (below === undefined) return errorResponse(400, "malformed percent-encoding in the path");
  // Literal routes first, so `images` is never taken for `images/{*path}`.
  const ordered = [...routes].sort((a, b) => Number(a.route.includes("{")) - Number(b.route.includes("{")));
  const allowed = new Set<string>();
  for (const route of ordered) {
    const params = matchTemplate(route.route, below);
    if (!params) continue;
    if (!route.methods.includes(req.method.toUpperCase() as never)) {
      for (const m of route.methods) allowed.add(m);
      continue;
    }
    try {
      return await route.handle({ ...req, params }, deps);
    } catch (err) {
      const { response, internal } = thrownResponse(err);
      if (internal) deps.log(`${req.method} ${req.path}: ${(err as Error).stack ?? String(err)}`);
      return response;
    }
  }
  if (allowed.size > 0)
    return errorResponse(405, `use ${[...allowed].join(", ")}`, { Allow: [...allowed].join(", ") });
  return errorResponse(404, `no route for ${req.path}`);
}
