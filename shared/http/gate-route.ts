import { ScanError } from "../model/errors.js";
import { gate } from "../stages/query.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";

/** `GET /api/gate?image=<ref@digest>`: 200 allow, 403 block (reasons), 404 never scanned, 409 pending. */
export async function gateRoute(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const image = req.query.get("image");
  if (!image) return errorResponse(400, "?image=<registry/repository@sha256:…> is required");
  try {
    const answer = await gate(deps.tables, image, deps);
    return { status: answer.status, body: { image, ...answer } };
  } catch (err) {
    if (err instanceof TypeError || err instanceof ScanError) return errorResponse(400, err.message);
    throw err;
  }
}
