import { z } from "zod";
import { ScanError } from "../model/errors.js";
import { parseImageReference } from "../registry/reference.js";
import { startScan } from "../stages/start-scan.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { readJsonBody } from "./json-body.js";
import { refuseUnlistedRegistry } from "./registry-refusal.js";

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
  const request = await startScan(
    deps,
    {
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      ...(ref.digest ? { digest: ref.digest } : {}),
    },
    { kind: "manual", source: "api" },
    body.value.platform,
  );
  const statusUrl = `/api/scans/${request.scanId}`;
  deps.log(`manual scan ${request.scanId}: ${body.value.image}`);
  return { status: 202, headers: { Location: statusUrl }, body: { scanId: request.scanId, statusUrl } };
}
