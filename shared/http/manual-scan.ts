import { z } from "zod";
import { ScanError } from "../model/errors.js";
import { parseImageReference } from "../registry/reference.js";
import { scanRequest } from "../stages/intake.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { readJsonBody } from "./json-body.js";
import { refuseUnlistedRegistry } from "./registry-refusal.js";
import { createRequestScan } from "../stages/scan-state.js";

const ManualScanSchema = z.strictObject({
  /** a registry reference: `registry/repo:tag`, `…@sha256:…` */
  image: z.string().min(1).max(1024),
  /** os/arch[/variant] or "all"; omitted = linux/amd64 when the index has it, else every image */
  platform: z
    .string()
    .regex(/^(all|[a-z0-9._-]+\/[a-z0-9._-]+(\/[a-z0-9._-]+)?)$/i, "os/arch[/variant] or all")
    .optional(),
});

/** `POST /api/scans` for CI pipelines: `{image, platform?}` → 202 `{scanId, statusUrl}`. */
export async function manualScan(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const body = readJsonBody(req.rawBody, ManualScanSchema);
  if (!body.ok) return body.response;
  let ref: ReturnType<typeof parseImageReference>;
  try {
    ref = parseImageReference(body.value.image);
  } catch (err) {
    if (err instanceof ScanError) return errorResponse(400, err.message);
    throw err;
  }
  if (ref.transport !== "registry") return errorResponse(400, "image must be a registry reference");
  const refused = await refuseUnlistedRegistry(ref.registry, `manual:${body.value.image}`, deps);
  if (refused) return refused;
  const request = scanRequest(
    {
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      ...(ref.digest ? { digest: ref.digest } : {}),
    },
    { kind: "manual", source: "api" },
    body.value.platform,
  );
  await createRequestScan(deps.tables, request.body, deps.now());
  await deps.bus.send("scan-requests", request.body, { messageId: request.messageId });
  const statusUrl = `/api/scans/${request.body.scanId}`;
  deps.log(`manual scan ${request.body.scanId}: ${body.value.image}`);
  return { status: 202, headers: { Location: statusUrl }, body: { scanId: request.body.scanId, statusUrl } };
}
