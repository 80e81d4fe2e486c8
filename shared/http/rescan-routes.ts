import { z } from "zod";
import {
  beginHistoricalRescan,
  continueHistoricalRescan,
  type HistoricalRescanOptions,
  startHistoricalRescan,
} from "../stages/jobs/historical-rescan.js";
import { RescanIdSchema, readRescanProgress } from "../stages/rescan-runs.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { readJsonBody } from "./json-body.js";

const HistoricalRescanSchema = z.strictObject({
  /** `registry/repository` as the images API names it, or "*" for every repository */
  repository: z
    .string()
    .min(1)
    .max(512)
    .refine(
      (r) => r === "*" || /^[^/\s]+\/[^\s]+$/.test(r),
      "registry/repository, or * for every repository",
    ),
  allDigests: z.boolean().optional(),
  since: z
    .string()
    .max(64)
    .refine((s) => Number.isFinite(Date.parse(s)), "a date or an ISO 8601 time")
    .optional(),
});

/**
 * `POST /api/rescans` `{repository, allDigests?, since?}`: re-match every stored digest of a
 * repository (or all) from its stored inventory. One repository: 202 once its images are queued.
 * Every repository ("*"): 202 as soon as the run is recorded, the images queued in the background
 * (progress at the status URL; a run a crash interrupts is resumed, see `resumeInterruptedRescans`).
 */
export async function startRescanRoute(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const body = readJsonBody(req.rawBody, HistoricalRescanSchema);
  if (!body.ok) return body.response;
  const { since, ...rest } = body.value;
  const request = { ...rest, ...(since ? { since: new Date(Date.parse(since)).toISOString() } : {}) };
  const options: HistoricalRescanOptions = {
    ...(deps.rescanBatchSize ? { batchSize: deps.rescanBatchSize } : {}),
    ...(deps.rescanMaxQueueDepth ? { depthLimit: { maxDepth: deps.rescanMaxQueueDepth } } : {}),
  };
  if (request.repository === "*") {
    const begun = await beginHistoricalRescan(deps, request);
    void continueHistoricalRescan(deps, begun, options).catch((err: unknown) =>
      deps.log(`rescan ${begun.rescanId}: ${(err as Error).message} (resumed by the next sweep)`),
    );
    const statusUrl = `/api/rescans/${begun.rescanId}`;
    return {
      status: 202,
      headers: { Location: statusUrl },
      body: { rescanId: begun.rescanId, statusUrl, status: begun.status },
    };
  }
  const run = await startHistoricalRescan(deps, request, options);
  const statusUrl = `/api/rescans/${run.rescanId}`;
  if (run.status === "failed")
    return { status: 500, body: { rescanId: run.rescanId, statusUrl, error: run.reason } };
  return {
    status: 202,
    headers: { Location: statusUrl },
    body: { rescanId: run.rescanId, statusUrl, status: run.status, queued: run.total },
  };
}

/** `GET /api/rescans/{id}`: the run, its counts (queued / done / failed / stale) and each image. */
export async function rescanStatusRoute(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const id = RescanIdSchema.safeParse(req.params?.rescanId ?? "");
  if (!id.success) return errorResponse(400, "not a rescan id");
  const progress = await readRescanProgress(deps.tables, id.data);
  if (!progress) return errorResponse(404, `no rescan ${id.data}`);
  return {
    status: 200,
    body: { ...progress.run, finished: progress.finished, counts: progress.counts, images: progress.images },
  };
}
