import { ScanError } from "../model/errors.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";

/**
 * `POST /api/db/refresh`: update the feeds now, then queue the targeted rescans the update calls
 * for. Answers the DB version and the number of images queued (200), 502 when a feed failed (the
 * previous DB stays current). A request while a refresh runs shares that run's answer.
 */
export async function dbRefreshRoute(_req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  if (!deps.dbRefresh) return errorResponse(503, "this host has no DB refresh configured");
  try {
    const result = await deps.dbRefresh();
    deps.log(`db refresh: ${result.version}, ${result.queued} image(s) queued`);
    return { status: 200, body: { ...result } };
  } catch (err) {
    if (err instanceof ScanError)
      return errorResponse(502, `DB update failed (the previous DB stays current): ${err.message}`);
    throw err;
  }
}
