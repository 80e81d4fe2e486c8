import { ScanIdSchema } from "../model/messages.js";
import { readScan, type ScanState } from "../stages/scan-state.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";

const view = (s: ScanState) => ({
  scanId: s.scanId,
  kind: s.kind,
  status: s.status,
  ...(s.reason ? { reason: s.reason } : {}),
  registry: s.registry,
  repository: s.repository,
  ...(s.digest ? { digest: s.digest } : {}),
  tags: s.tags,
  ...(s.platform ? { platform: s.platform } : {}),
  ...(s.kind === "platform" ? { layers: s.layers.length, pendingLayers: s.pending.length } : {}),
  ...(s.decision ? { decision: s.decision } : {}),
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});

/** A request's own row says "analyzing" once fanned out: its children say how far the scan really is. */
function rolledUp(request: ScanState, children: ScanState[]): { status: string; reason?: string } {
  if (request.status === "failed" || children.length === 0)
    return { status: request.status, ...(request.reason ? { reason: request.reason } : {}) };
  const failed = children.find((c) => c.status === "failed");
  if (failed) return { status: "failed", reason: failed.reason ?? "a platform scan failed" };
  if (children.every((c) => c.status === "done")) return { status: "done" };
  return { status: children.some((c) => c.status === "matching") ? "matching" : "analyzing" };
}

/** `GET /api/scans/{scanId}`: status (with the failure reason) and, for a request, its platform scans. */
export async function scanStatus(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const id = ScanIdSchema.safeParse(req.params?.scanId ?? "");
  if (!id.success) return errorResponse(400, "not a scan id (32 hex characters)");
  const found = await readScan(deps.tables, id.data);
  if (!found) return errorResponse(404, `scan ${id.data} not found`);
  const children: ScanState[] = [];
  for (const child of found.state.children) {
    const c = await readScan(deps.tables, child);
    if (c) children.push(c.state);
  }
  return {
    status: 200,
    body: { ...view(found.state), ...rolledUp(found.state, children), children: children.map(view) },
  };
}
