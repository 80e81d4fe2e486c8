import { z } from "zod";
import { type LayerRef, LayerRefSchema, type Platform, PlatformSchema } from "../model/image.js";
import type { ScanRequestMessage } from "../model/messages.js";
import type { TableProperties, TableStore } from "../ports/table-store.js";
import { jsonProperty } from "../ports/json-property.js";
import { TABLES } from "./tables.js";
import { ScanError } from "../model/errors.js";

export const ScanStatusSchema = z.enum(["queued", "analyzing", "matching", "done", "failed"]);
export type ScanStatus = z.infer<typeof ScanStatusSchema>;

/**
 * One scan as the `scans` table holds it. A "request" row stands for what was asked (a tag or an
 * index digest) and names its platform scans; a "platform" row carries the fan-out/fan-in state of
 * one platform image: the layers still pending and the one layer whose completion fired matching.
 */
export interface ScanState {
  scanId: string;
  kind: "request" | "platform";
  status: ScanStatus;
  reason?: string;
  registry: string;
  repository: string;
  /** platform manifest digest (platform rows); requested digest, if any (request rows) */
  digest?: string;
  tag?: string;
  tags: string[];
  platform?: Platform;
  layers: LayerRef[];
  pending: string[];
  /** the layer digest whose join update emptied `pending` — only its handler may (re)send matching */
  joinedBy?: string;
  children: string[];
  analyzerSet?: string;
  /** the platform image's config blob digest; the config itself is stored under `blobKeys.config` */
  configDigest?: string;
  decision?: string;
  /**
   * How often a failed platform scan was started again (absent: never). It is part of the ids of
   * the messages the scan sends, so a restart is not dropped as a duplicate of the failed attempt.
   */
  attempt?: number;
  createdAt: string;
  updatedAt: string;
}

const ROW = "scan";
const json = jsonProperty;

const RowSchema = z.object({
  kind: z.enum(["request", "platform"]),
  status: ScanStatusSchema,
  reason: z.string().optional(),
  registry: z.string(),
  repository: z.string(),
  digest: z.string().optional(),
  tag: z.string().optional(),
  tags: json(z.array(z.string())),
  platform: json(PlatformSchema).optional(),
  layers: json(z.array(LayerRefSchema)),
  pending: json(z.array(z.string())),
  joinedBy: z.string().optional(),
  children: json(z.array(z.string())),
  analyzerSet: z.string().optional(),
  configDigest: z.string().optional(),
  decision: z.string().optional(),
  attempt: z.number().int().min(1).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

function toProperties(s: ScanState): TableProperties {
  const p: TableProperties = {
    kind: s.kind,
    status: s.status,
    registry: s.registry,
    repository: s.repository,
    tags: JSON.stringify(s.tags),
    layers: JSON.stringify(s.layers),
    pending: JSON.stringify(s.pending),
    children: JSON.stringify(s.children),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
  if (s.reason !== undefined) p.reason = s.reason;
  if (s.digest !== undefined) p.digest = s.digest;
  if (s.tag !== undefined) p.tag = s.tag;
  if (s.platform !== undefined) p.platform = JSON.stringify(s.platform);
  if (s.joinedBy !== undefined) p.joinedBy = s.joinedBy;
  if (s.analyzerSet !== undefined) p.analyzerSet = s.analyzerSet;
  if (s.configDigest !== undefined) p.configDigest = s.configDigest;
  if (s.decision !== undefined) p.decision = s.decision;
  if (s.attempt !== undefined) p.attempt = s.attempt;
  return p;
}

/** The message-id part of a scan's message: unchanged for a first attempt, suffixed on a restart. */
export const attemptPart = (scan: Pick<ScanState, "attempt">, part: string): string =>
  scan.attempt ? `${part}.r${scan.attempt}` : part;

export async function readScan(
  tables: TableStore,
  scanId: string,
): Promise<{ state: ScanState; etag: string } | undefined> {
  const row = await tables.get(TABLES.scans, scanId, ROW);
  if (!row) return undefined;
  const parsed = RowSchema.parse(row.properties);
  const state: ScanState = { scanId, ...parsed } as ScanState;
  return { state, etag: row.etag };
}

/** Creates the scan row unless it exists; returns whichever row is there afterwards. */
export async function createScan(
  tables: TableStore,
  state: ScanState,
): Promise<{ state: ScanState; created: boolean }> {
  const write = await tables.insertIfAbsent(TABLES.scans, state.scanId, ROW, toProperties(state));
  if (write.ok) return { state, created: true };
  const existing = await readScan(tables, state.scanId);
  if (!existing)
    throw new ScanError("concurrent-update", `scan ${state.scanId} vanished while being created`, {
      permanent: false,
    });
  return { state: existing.state, created: false };
}

/**
 * Read-modify-write under the row's ETag, retried on conflict: `change` returns the new state, or
 * undefined to leave the row alone. Resolves to the state written (or read, when unchanged).
 */
export async function updateScan(
  tables: TableStore,
  scanId: string,
  change: (current: ScanState) => ScanState | undefined,
  now: () => Date,
): Promise<{ state: ScanState; changed: boolean } | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const current = await readScan(tables, scanId);
    if (!current) return undefined;
    const next = change(structuredClone(current.state));
    if (!next) return { state: current.state, changed: false };
    next.updatedAt = now().toISOString();
    const write = await tables.updateIfMatch(TABLES.scans, scanId, ROW, toProperties(next), current.etag);
    if (write.ok) return { state: next, changed: true };
    if (write.conflict === "missing") return undefined;
    // another handler wrote first: re-read and apply the change to its state
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * Math.random()));
  }
  throw new ScanError("concurrent-update", `scan ${scanId}: too many concurrent updates`, {
    permanent: false,
  });
}

/**
 * The request's scan row, written when the request is accepted (the status API and the gate answer
 * "queued" before a worker picks the message up) and again, as a no-op, when it is resolved.
 */
export async function createRequestScan(
  tables: TableStore,
  request: ScanRequestMessage,
  now: Date,
): Promise<void> {
  const { registry, repository, tag, digest } = request.image;
  const at = now.toISOString();
  await createScan(tables, {
    scanId: request.scanId,
    kind: "request",
    status: "queued",
    registry,
    repository,
    ...(digest ? { digest } : {}),
    ...(tag ? { tag } : {}),
    tags: tag ? [tag] : [],
    layers: [],
    pending: [],
    children: [],
    createdAt: at,
    updatedAt: at,
  });
}

export async function failScan(
  tables: TableStore,
  scanId: string,
  reason: string,
  now: () => Date,
): Promise<void> {
  await updateScan(
    tables,
    scanId,
    (s) =>
      s.status === "done" || (s.status === "failed" && s.reason === reason)
        ? undefined
        : { ...s, status: "failed", reason },
    now,
  );
}

/** Reads a row that never exists: resolves when table storage answers (the health route's probe). */
export async function probeScanTable(tables: TableStore): Promise<void> {
  await tables.get(TABLES.scans, "health", "probe");
}
