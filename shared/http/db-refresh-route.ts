import { ScanError } from "../model/errors.js";
import type { DbRefreshResult } from "../stages/jobs/db-refresh.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";

// one refresh at a time per host: a second request while one runs would only race it for the same feeds
const running = new WeakMap<HttpDeps, Promise<DbRefreshResult>>();

/**
 * `POST /api/db/refresh`: update the feeds now, then queue the targeted rescans the update calls
 * for. Answers the DB version and the number of images queued (200), 502 when a feed failed (the
 * previous DB stays current), 409 while another refresh runs.
 */
export async function dbRefreshRoute(_req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  if (!deps.dbRefresh) return errorResponse(503, "this host has no DB refresh configured");
  if (running.has(deps)) return errorResponse(409, "a DB refresh is already running; try again when it ends");
  const refresh = deps.dbRefresh();
  running.set(deps, refresh);
  try {
    const result = await refresh;
    deps.log(`db refresh: ${result.version}, ${result.queued} image(s) queued`);
    return { status: 200, body: { ...result } };
  } catch (err) {
    if (err instanceof ScanError)
      return errorResponse(502, `DB update failed (the previous DB stays current): ${err.message}`);
    throw err;
  } finally {
    running.delete(deps);
  }
}
