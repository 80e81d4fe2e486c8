import { rm } from "node:fs/promises";
import { ScanError } from "../../model/errors.js";
import type { BlobStore } from "../../ports/blob-store.js";
import { AdvisoryCollector } from "../db-build.js";
import { type DbMetadata, type FeedState, NVD_ECOSYSTEM } from "../db-format.js";
import { readEcosystem } from "../db-read.js";
import { type JsonStreamLimits, streamJsonFile } from "../json-stream.js";
import { type FeedFingerprint, fetchOsvExport } from "../osv-export-feed.js";
import { NVD_ITEMS_PATH, NvdItemSchema, nvdSeverity } from "./nvd-record.js";

/** NVD's JSON 2.0 feed files: `<base>/nvdcve-2.0-<year>.json.gz`, one per CVE id year since 2002. */
export const DEFAULT_NVD_URL = "https://nvd.nist.gov/feeds/json/cve/2.0";
export const NVD_FIRST_YEAR = 2002;

export const nvdMirrorUrl = (mirror: string): string => `${mirror.replace(/\/+$/, "")}/nvd`;
export const nvdYearUrl = (base: string, year: number): string =>
  `${base.replace(/\/+$/, "")}/nvdcve-2.0-${year}.json.gz`;

/** Reads one NVD JSON 2.0 document (a year file, an API answer; plain or gzip) into the collector. */
export async function collectNvdFile(
  collector: AdvisoryCollector,
  file: string,
  limits: JsonStreamLimits = {},
): Promise<void> {
  await streamJsonFile(
    file,
    NVD_ITEMS_PATH,
    (value, keys) => {
      const rating = nvdSeverity(value);
      if (rating) collector.addRating(NVD_ECOSYSTEM, rating.cveId, rating);
      else if (!NvdItemSchema.safeParse(value).success)
        collector.skip(`${file} vulnerabilities[${String(keys.at(-1))}]: not an NVD CVE item`);
    },
    limits,
  );
}

export interface NvdUpdateOptions extends JsonStreamLimits {
  baseUrl?: string;
  now: Date;
  fetch?: typeof globalThis.fetch;
  tmpDir?: string;
  maxDownloadBytes?: number;
}

export type NvdUpdate =
  | { status: "unchanged" }
  | { status: "updated"; collector: AdvisoryCollector; state: FeedState; bytes: number; years: number[] };

// NVD's 2002 file also holds every CVE id of 1999–2001
const fileYear = (id: string): number => Math.max(NVD_FIRST_YEAR, Number(id.slice(4, 8)));

/**
 * One run of the NVD feed: every year file is asked for conditionally, so an unchanged year costs a
 * 304; the ratings of changed years are read anew and those of unchanged years carried over from the
 * DB. Any failure throws and leaves the previous DB as it was.
 */
export async function collectNvd(
  store: BlobStore,
  previous: DbMetadata | undefined,
  options: NvdUpdateOptions,
): Promise<NvdUpdate> {
  const base = options.baseUrl ?? DEFAULT_NVD_URL;
  const known = previous?.feeds[NVD_ECOSYSTEM];
  // fingerprints from another mirror say nothing about this one
  const parts = known?.url === base ? (known.parts ?? {}) : {};
  const collector = new AdvisoryCollector({
    now: options.now,
    feed: NVD_ECOSYSTEM,
    acceptEcosystem: (e) => e === NVD_ECOSYSTEM,
  });
  const fingerprints: Record<string, FeedFingerprint> = {};
  const changed: number[] = [];
  let bytes = 0;
  for (let year = NVD_FIRST_YEAR; year <= options.now.getUTCFullYear(); year++) {
    const url = nvdYearUrl(base, year);
    const before = parts[String(year)];
    const download = await fetchOsvExport({
      baseUrl: base,
      ecosystem: NVD_ECOSYSTEM,
      url,
      ...(before ? { previous: before } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
      ...(options.maxDownloadBytes ? { maxBytes: options.maxDownloadBytes } : {}),
    });
    if (download.status === "not-modified") {
      fingerprints[String(year)] = before ?? {};
      continue;
    }
    try {
      await collectNvdFile(collector, download.file, options);
    } catch (err) {
      if (err instanceof ScanError)
        throw new ScanError(err.code, `NVD feed ${url}: ${err.message}`, {
          permanent: err.permanent,
          cause: err,
        });
      throw err;
    } finally {
      await rm(download.file, { force: true });
    }
    fingerprints[String(year)] = download.fingerprint;
    changed.push(year);
    bytes += download.bytes;
  }
  if (changed.length === 0 && known) return { status: "unchanged" };
  const fetched = new Set(changed);
  const kept =
    previous?.ecosystems[NVD_ECOSYSTEM] && known?.url === base
      ? await readEcosystem(store, previous, NVD_ECOSYSTEM)
      : new Map();
  const current = collector.ecosystems.get(NVD_ECOSYSTEM) ?? new Map();
  // a year that answered 304 keeps the ratings it had
  for (const [id, entries] of kept)
    if (!fetched.has(fileYear(id)) && !current.has(id)) current.set(id, entries);
  if (current.size > 0) collector.ecosystems.set(NVD_ECOSYSTEM, current);
  return {
    status: "updated",
    collector,
    bytes,
    years: changed,
    state: {
      url: base,
      fetchedAt: options.now.toISOString(),
      records: current.size,
      skipped: collector.stats.skipped,
      withdrawn: 0,
      parts: fingerprints,
    },
  };
}
