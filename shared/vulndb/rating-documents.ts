import type { AdvisoryCollector } from "./db-build.js";
import { collectTrackerFile } from "./debian-tracker/tracker-feed.js";
import { type JsonStreamLimits, openJsonFile } from "./json-stream.js";
import { collectNvdFile } from "./nvd/nvd-feed.js";

/** The big single-document rating feeds `db import` streams instead of reading whole. */
export type RatingDocumentKind = "nvd" | "debian-tracker";

const HEAD_BYTES = 4096;
const NVD_HEAD = /"format"\s*:\s*"NVD_CVE"|"vulnerabilities"\s*:\s*\[\s*\{\s*"cve"\s*:/;
const TRACKER_HEAD = /^\s*\{\s*"[^"\\]{1,256}"\s*:\s*\{\s*"(CVE|TEMP)-/;

/** The first bytes of a file, gunzipped when it is gzip (a truncated or bad gzip reads as what it gave). */
async function head(file: string): Promise<string> {
  const source = await openJsonFile(file);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= HEAD_BYTES) break;
    }
  } catch {
    // what could be read is what there is: the full read reports the damage
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString("utf8");
}

/** Which rating feed a file is a copy of, by its first bytes, or undefined for anything else. */
export async function sniffRatingDocument(file: string): Promise<RatingDocumentKind | undefined> {
  const text = await head(file);
  if (NVD_HEAD.test(text)) return "nvd";
  if (TRACKER_HEAD.test(text)) return "debian-tracker";
  return undefined;
}

export function collectRatingDocument(
  collector: AdvisoryCollector,
  file: string,
  kind: RatingDocumentKind,
  limits: JsonStreamLimits = {},
): Promise<void> {
  return kind === "nvd"
    ? collectNvdFile(collector, file, limits)
    : collectTrackerFile(collector, file, limits);
}
