import { probeScanTable } from "../stages/scan-state.js";
import type { HttpDeps } from "./http-deps.js";
import type { RouteRequest, RouteResponse } from "./http-types.js";

/** `GET /api/health`: 200 when table storage answers, 503 when it does not. */
export async function healthRoute(_req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  try {
    await probeScanTable(deps.tables);
    return { status: 200, body: { status: "ok", time: deps.now().toISOString() } };
  } catch (err) {
    return { status: 503, body: { status: "unavailable", reason: (err as Error).message } };
  }
}
