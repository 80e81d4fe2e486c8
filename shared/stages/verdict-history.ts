import { z } from "zod";
import {
  RescanCauseSchema,
  type VerdictCause,
  type VerdictRecord,
  VerdictRecordSchema,
} from "../model/messages.js";
import type { Finding } from "../model/report.js";
import { type BlobStore, type BlobWrite, putBlobs } from "../ports/blob-store.js";
import { diffVerdicts, type FindingState, FindingStateSchema, findingStateOf } from "./verdict-diff.js";
import { blobKeys } from "./tables.js";

/**
 * The verdict records of each image (blobs under `verdicts/`, keys in `tables.ts`): the latest one
 * with its findings as the next verdict's baseline, every one by time, and the last rescan failure.
 * This module is their only reader and writer.
 */
const LatestSchema = z.object({
  /** identifies the verdict run: a redelivered verdict finds its own record and reuses it */
  verdictId: z.string(),
  decision: z.string(),
  record: VerdictRecordSchema,
  findings: z.array(FindingStateSchema),
});

const RescanFailureSchema = z.object({ at: z.string(), cause: RescanCauseSchema, reason: z.string() });
export type RescanFailure = z.infer<typeof RescanFailureSchema>;

export interface ImageKey {
  registry: string;
  repository: string;
  digest: string;
}

const JSON_BLOB = { contentType: "application/json" };

async function readJson<T>(blobs: BlobStore, key: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const raw = await blobs.get(key);
  if (!raw) return undefined;
  try {
    return schema.parse(JSON.parse(raw.toString("utf8")));
  } catch {
    // a damaged record only costs the next diff its baseline; it must never stop a verdict
    return undefined;
  }
}

/** A verdict's findings as its record keeps them: the JSON stored (UTF-8), the list read only for a diff. */
export interface VerdictFindings {
  bytes: Uint8Array;
  list(): readonly FindingState[];
}

export function verdictFindings(findings: readonly Finding[]): VerdictFindings {
  const list = findings.map(findingStateOf);
  return { bytes: new TextEncoder().encode(JSON.stringify(list)), list: () => list };
}

/** The bytes `verdictFindings` makes, made elsewhere (the verdict thread): parsed only for a diff. */
export function verdictFindingsFromBytes(bytes: Uint8Array): VerdictFindings {
  let list: FindingState[] | undefined;
  return { bytes, list: () => (list ??= JSON.parse(new TextDecoder().decode(bytes)) as FindingState[]) };
}

/**
 * A verdict's record and the blobs that store it (the latest verdict and the record under its time,
 * in that order), to be written before or with the report: a redelivery finds its own record and
 * answers the same diff. The caller writes them, the report with them where the store can.
 */
export async function planVerdictRecord(
  blobs: BlobStore,
  image: ImageKey,
  verdict: { verdictId: string; cause: VerdictCause; at: string; dbVersion: string; decision: string },
  findings: VerdictFindings,
): Promise<{ record: VerdictRecord; writes: BlobWrite[] }> {
  const { registry, repository, digest } = image;
  const latestKey = blobKeys.verdictLatest(registry, repository, digest);
  const previous = await readJson(blobs, latestKey, LatestSchema);
  if (previous?.verdictId === verdict.verdictId) {
    // a crash may have come between the two writes: the record goes (again) under its own time
    const key = blobKeys.verdictRecord(registry, repository, digest, previous.record.at);
    return {
      record: previous.record,
      writes: [{ key, data: JSON.stringify(previous.record), ...JSON_BLOB }],
    };
  }
  const record: VerdictRecord = {
    cause: verdict.cause,
    at: verdict.at,
    dbVersion: verdict.dbVersion,
    ...(previous
      ? {
          previous: {
            at: previous.record.at,
            cause: previous.record.cause,
            dbVersion: previous.record.dbVersion,
          },
          diff: diffVerdicts(previous, { decision: verdict.decision, findings: findings.list() }),
        }
      : {}),
  };
  // the latest as one JSON text around the findings' own: the same bytes as stringifying it whole
  const head = JSON.stringify({ verdictId: verdict.verdictId, decision: verdict.decision, record });
  const latest = Buffer.concat([
    Buffer.from(`${head.slice(0, -1)},"findings":`),
    findings.bytes,
    Buffer.from("}"),
  ]);
  return {
    record,
    // the latest first: written one after the other, a redelivery after a crash finds it and writes
    // this record, not a second one
    writes: [
      { key: latestKey, data: latest, ...JSON_BLOB },
      {
        key: blobKeys.verdictRecord(registry, repository, digest, verdict.at),
        data: JSON.stringify(record),
        ...JSON_BLOB,
      },
    ],
  };
}

/** A verdict recorded: its record is no longer a rescan failure's to show (cleared by the next verdict). */
export const clearRescanFailure = (blobs: BlobStore, image: ImageKey): Promise<void> =>
  blobs.delete(blobKeys.rescanFailure(image.registry, image.repository, image.digest));

/**
 * Records a verdict and returns its record: its cause and, when the digest had a verdict before,
 * the diff from it. Written before the report, so a redelivery finds it and answers the same diff.
 */
export async function recordVerdict(
  blobs: BlobStore,
  image: ImageKey,
  verdict: { verdictId: string; cause: VerdictCause; at: string; dbVersion: string; decision: string },
  findings: readonly Finding[],
): Promise<VerdictRecord> {
  const { record, writes } = await planVerdictRecord(blobs, image, verdict, verdictFindings(findings));
  // one commit where the store can; elsewhere in order
  await putBlobs(blobs, writes);
  await clearRescanFailure(blobs, image);
  return record;
}

/** The latest verdict's record of an image (undefined before its first recorded verdict). */
export async function readVerdictRecord(
  blobs: BlobStore,
  image: ImageKey,
): Promise<VerdictRecord | undefined> {
  const latest = await readJson(
    blobs,
    blobKeys.verdictLatest(image.registry, image.repository, image.digest),
    LatestSchema,
  );
  return latest?.record;
}

/** A rescan that could not run for this image: kept, with the reason, until its next verdict. */
export async function recordRescanFailure(
  blobs: BlobStore,
  image: ImageKey,
  failure: RescanFailure,
): Promise<void> {
  await blobs.put(
    blobKeys.rescanFailure(image.registry, image.repository, image.digest),
    JSON.stringify(failure),
    JSON_BLOB,
  );
}

export const readRescanFailure = (blobs: BlobStore, image: ImageKey): Promise<RescanFailure | undefined> =>
  readJson(
    blobs,
    blobKeys.rescanFailure(image.registry, image.repository, image.digest),
    RescanFailureSchema,
  );
