import { z } from "zod";
import {
  RescanCauseSchema,
  type VerdictCause,
  type VerdictRecord,
  VerdictRecordSchema,
} from "../model/messages.js";
import type { Finding } from "../model/report.js";
import { type BlobStore, putBlobs } from "../ports/blob-store.js";
import { diffVerdicts, FindingStateSchema, findingStateOf } from "./verdict-diff.js";
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
  const { registry, repository, digest } = image;
  const latestKey = blobKeys.verdictLatest(registry, repository, digest);
  const previous = await readJson(blobs, latestKey, LatestSchema);
  if (previous?.verdictId === verdict.verdictId) {
    // a crash may have come between the two writes: the record goes (again) under its own time
    await blobs.put(
      blobKeys.verdictRecord(registry, repository, digest, previous.record.at),
      JSON.stringify(previous.record),
      JSON_BLOB,
    );
    return previous.record;
  }
  const states = findings.map(findingStateOf);
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
          diff: diffVerdicts(previous, { decision: verdict.decision, findings: states }),
        }
      : {}),
  };
  // one commit where the store can; elsewhere in this order, the latest first: a redelivery after a
  // crash finds it and writes this record, not a second one
  await putBlobs(blobs, [
    {
      key: latestKey,
      data: JSON.stringify({
        verdictId: verdict.verdictId,
        decision: verdict.decision,
        record,
        findings: states,
      }),
      ...JSON_BLOB,
    },
    {
      key: blobKeys.verdictRecord(registry, repository, digest, verdict.at),
      data: JSON.stringify(record),
      ...JSON_BLOB,
    },
  ]);
  await blobs.delete(blobKeys.rescanFailure(registry, repository, digest));
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
