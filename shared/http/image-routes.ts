import { z } from "zod";
import { DigestSchema } from "../model/digest.js";
import { getReport, listImages } from "../stages/query.js";
import { readRescanFailure, readVerdictRecord } from "../stages/verdict-history.js";
import { trackingStatusOf } from "../tracking/tracking-ledger.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";

const ListQuerySchema = z.object({
  repository: z.string().min(1).max(512).optional(),
  verdict: z.enum(["block", "fix", "pass"]).optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
});

/** `GET /api/images?repository=<registry/repo>&verdict=block|fix|pass`. */
export async function listImagesRoute(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const query = ListQuerySchema.safeParse(Object.fromEntries(req.query));
  if (!query.success) return errorResponse(400, z.prettifyError(query.error).replace(/\n/g, "; "));
  const images = await listImages(deps.tables, query.data);
  // GitHub tracking: the repository's issue, or why it has none
  const tracking = await trackingStatusOf(
    deps.tables,
    images.map((i) => `${i.registry}/${i.repository}`),
  );
  return {
    status: 200,
    body: {
      images: images.map((i) => ({ ...i, tracking: tracking.get(`${i.registry}/${i.repository}`) ?? [] })),
    },
  };
}

/** `GET /api/images/{registry/repository…}/{digest}`: the stored JSON report. */
export async function imageReportRoute(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const rest = (req.params?.path ?? "").replace(/^\/+|\/+$/g, "");
  const slash = rest.lastIndexOf("/");
  const digest = rest.slice(slash + 1);
  const repository = slash > 0 ? rest.slice(0, slash) : "";
  if (!repository.includes("/") || !DigestSchema.safeParse(digest).success)
    return errorResponse(400, "expected /api/images/<registry>/<repository>/<sha256:digest>");
  const report = await getReport(deps.tables, deps.blobs, repository, digest);
  if (!report) return errorResponse(404, `no report for ${repository}@${digest}`);
  // the verdict's cause and diff, and a rescan that could not run, beside the report they concern
  const image = {
    registry: repository.slice(0, repository.indexOf("/")),
    repository: repository.slice(repository.indexOf("/") + 1),
    digest,
  };
  const [verdictRecord, rescanFailure] = await Promise.all([
    readVerdictRecord(deps.blobs, image),
    readRescanFailure(deps.blobs, image),
  ]);
  if (!verdictRecord && !rescanFailure) return { status: 200, body: report };
  const merged = {
    ...(JSON.parse(report.toString("utf8")) as Record<string, unknown>),
    ...(verdictRecord ? { verdictRecord } : {}),
    ...(rescanFailure ? { rescanFailure } : {}),
  };
  return { status: 200, body: Buffer.from(JSON.stringify(merged, null, 2)) };
}
