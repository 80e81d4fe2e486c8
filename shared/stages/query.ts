import { UNSCANNED_REASON } from "../policy/decide.js";
import { scanIdOf } from "../model/messages.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { TableStore } from "../ports/table-store.js";
import { parseImageReference } from "../registry/reference.js";
import { readScan, type ScanState } from "./scan-state.js";
import {
  imagePartition,
  queryScannedImages,
  readScannedImage,
  recordGateQuery,
  type ScannedImage,
} from "./scanned-images.js";

export interface ImageSummary {
  registry: string;
  repository: string;
  digest: string;
  tags: string[];
  platform: unknown;
  os: string;
  decision: string;
  reasons: string[];
  counts: Record<string, number>;
  dbVersion: string;
  scannedAt: string;
  lastGateQueryAt?: string;
  staleSince?: string;
}

const summary = (image: ScannedImage): ImageSummary => ({
  registry: image.registry,
  repository: image.repository,
  digest: image.digest,
  tags: image.tags,
  platform: image.platform,
  os: image.os,
  decision: image.decision,
  reasons: image.reasons,
  counts: image.counts,
  dbVersion: image.dbVersion,
  scannedAt: image.scannedAt,
  ...(image.lastGateQueryAt ? { lastGateQueryAt: image.lastGateQueryAt } : {}),
  ...(image.staleSince ? { staleSince: image.staleSince } : {}),
});

/** `GET /api/images`: scanned images, optionally one repository (`registry/repo`) or one verdict. */
export async function listImages(
  tables: TableStore,
  filter: { repository?: string; verdict?: string; limit?: number },
): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  for await (const image of queryScannedImages(tables, {
    ...(filter.repository ? { repository: filter.repository } : {}),
    ...(filter.verdict ? { decision: filter.verdict } : {}),
    limit: filter.limit ?? 1000,
  }))
    out.push(summary(image));
  return out;
}

/** `GET /api/images/{repository}/{digest}`: the stored JSON report. */
export async function getReport(
  tables: TableStore,
  blobs: BlobStore,
  repository: string,
  digest: string,
): Promise<Buffer | undefined> {
  const image = await readScannedImage(tables, repository, digest);
  if (!image) return undefined;
  return blobs.get(image.reportKey);
}

export interface GateAnswer {
  /** 200 allow, 403 block, 404 never scanned, 409 scan pending */
  status: 200 | 403 | 404 | 409;
  decision: "allow" | "block" | "unknown" | "pending";
  reasons: string[];
  images: { digest: string; platform?: unknown; status: string; decision?: string }[];
}

/** Who asks the gate records it: each platform image asked about is in use (the still-in-use sweep). */
export interface GateRecording {
  now(): Date;
  log(message: string): void;
}

/**
 * `GET /api/gate?image=<ref@digest>` for CD pipelines and admission controllers. An index digest
 * answers for all its platforms (block if any blocks). A failed scan blocks: a gate fails closed.
 * While a rescan of a scanned image is pending, the previous verdict stands (a rescan never 409s).
 */
export async function gate(
  tables: TableStore,
  image: string,
  recording?: GateRecording,
): Promise<GateAnswer> {
  const answer = await gateAnswer(tables, image);
  if (recording)
    for (const asked of answer.images) {
      if (asked.status !== "done") continue;
      const ref = parseImageReference(image);
      if (ref.transport !== "registry") break;
      const at = recording.now();
      await recordGateQuery(
        tables,
        { registry: ref.registry, repository: ref.repository, digest: asked.digest },
        at,
      ).catch((err: unknown) =>
        recording.log(`gate: could not record the query of ${asked.digest}: ${(err as Error).message}`),
      );
    }
  return answer;
}

async function gateAnswer(tables: TableStore, image: string): Promise<GateAnswer> {
  const ref = parseImageReference(image);
  if (ref.transport !== "registry" || !ref.digest)
    throw new TypeError("image must be a registry reference with @digest");
  const registry = ref.registry;
  const repository = ref.repository;
  const direct = await readScannedImage(tables, imagePartition(registry, repository), ref.digest);
  let scans: ScanState[] = [];
  if (direct) {
    const s = await readScan(tables, direct.scanId);
    if (s) scans = [s.state];
  }
  if (scans.length === 0) {
    const request = await readScan(tables, scanIdOf({ registry, repository, digest: ref.digest }));
    if (request) {
      if (request.state.status === "failed") scans = [request.state];
      else if (request.state.children.length === 0)
        return { status: 409, decision: "pending", reasons: ["scan queued"], images: [] };
      for (const child of request.state.children) {
        const c = await readScan(tables, child);
        if (c) scans.push(c.state);
      }
    }
  }
  if (scans.length === 0)
    return { status: 404, decision: "unknown", reasons: ["image never scanned"], images: [] };
  const images = scans.map((s) => ({
    digest: s.digest ?? ref.digest!,
    ...(s.platform ? { platform: s.platform } : {}),
    status: s.status,
    ...(s.decision ? { decision: s.decision } : {}),
  }));
  const failed = scans.filter((s) => s.status === "failed");
  if (failed.length > 0)
    return {
      status: 403,
      decision: "block",
      reasons: failed.map((s) => `scan failed: ${s.reason ?? "unknown reason"}`),
      images,
    };
  if (scans.some((s) => s.status !== "done"))
    return { status: 409, decision: "pending", reasons: ["scan in progress"], images };
  const blocking = [];
  for (const s of scans) {
    if (s.decision !== "block") continue;
    const image = await readScannedImage(tables, imagePartition(s.registry, s.repository), s.digest ?? "");
    const reasons = image?.reasons ?? [];
    blocking.push(...(reasons.length ? reasons : [`${s.digest} is blocked by policy`]));
  }
  if (blocking.length > 0) return { status: 403, decision: "block", reasons: blocking, images };
  // an allow the policy gave to an image it could not fully scan says so
  const caveats: string[] = [];
  for (const s of scans) {
    const image = await readScannedImage(tables, imagePartition(s.registry, s.repository), s.digest ?? "");
    const reasons = image?.reasons ?? [];
    caveats.push(...reasons.filter((r) => r.includes(UNSCANNED_REASON)));
  }
  return { status: 200, decision: "allow", reasons: caveats, images };
}
