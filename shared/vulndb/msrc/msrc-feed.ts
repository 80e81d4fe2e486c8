import { ScanError } from "../../model/errors.js";
import {
  type CvrfDocument,
  CvrfDocumentSchema,
  type MsrcUpdatesIndex,
  MsrcUpdatesIndexSchema,
} from "./cvrf-schema.js";

export const DEFAULT_MSRC_BASE_URL = "https://api.msrc.microsoft.com";

/** What a previous run saw, so the next one asks only for what changed. */
export interface MsrcFingerprint {
  index?: { etag?: string; lastModified?: string };
  /** by document id ("2024-Mar") */
  documents?: Record<string, { etag?: string; lastModified?: string; currentReleaseDate?: string }>;
}

export interface FetchMsrcOptions {
  baseUrl?: string;
  previous?: MsrcFingerprint;
  /** only documents first released on or after this date (the index goes back to 2016) */
  since?: Date;
  /** largest response accepted, in bytes */
  maxBytes?: number;
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
}

export type MsrcFeedResult =
  | { status: "not-modified"; fingerprint: MsrcFingerprint }
  | {
      status: "updated";
      /** documents fetched in this run (changed or new); unchanged ones are not re-sent */
      documents: CvrfDocument[];
      /** the index id of each fetched document, in the same order */
      ids: string[];
      unchanged: string[];
      fingerprint: MsrcFingerprint;
    };

/**
 * Claircore-style updater fetch for MSRC: `/cvrf/v3.0/updates`, then each monthly CVRF document as
 * JSON. Both requests are conditional (If-None-Match / If-Modified-Since), and a month whose
 * CurrentReleaseDate has not moved is not fetched at all. Document URLs are built from the
 * configured base and the month id — never taken from the index's CvrfUrl, which could point anywhere.
 */
export async function fetchMsrcUpdates(options: FetchMsrcOptions = {}): Promise<MsrcFeedResult> {
  const base = (options.baseUrl ?? DEFAULT_MSRC_BASE_URL).replace(/\/+$/, "");
  const previous = options.previous ?? {};
  const indexRes = await conditionalGet(`${base}/cvrf/v3.0/updates`, previous.index, options);
  if (indexRes.status === "not-modified") return { status: "not-modified", fingerprint: previous };
  const index = parseJson(indexRes.url, indexRes.body, MsrcUpdatesIndexSchema) satisfies MsrcUpdatesIndex;

  const fingerprint: MsrcFingerprint = { index: indexRes.fingerprint, documents: { ...previous.documents } };
  const documents: CvrfDocument[] = [];
  const ids: string[] = [];
  const unchanged: string[] = [];
  for (const entry of index.value) {
    const released = entry.InitialReleaseDate ? Date.parse(entry.InitialReleaseDate) : Number.NaN;
    if (options.since && !Number.isNaN(released) && released < options.since.getTime()) continue;
    const before = previous.documents?.[entry.ID];
    if (before?.currentReleaseDate !== undefined && before.currentReleaseDate === entry.CurrentReleaseDate) {
      unchanged.push(entry.ID);
      continue;
    }
    const res = await conditionalGet(
      `${base}/cvrf/v3.0/cvrf/${encodeURIComponent(entry.ID)}`,
      before,
      options,
    );
    if (res.status === "not-modified") {
      // the month's date moved but its content did not: remember the date, so it is not asked again
      if (before)
        fingerprint.documents![entry.ID] = {
          ...before,
          currentReleaseDate: entry.CurrentReleaseDate ?? undefined,
        };
      unchanged.push(entry.ID);
      continue;
    }
    const doc = parseJson(res.url, res.body, CvrfDocumentSchema);
    documents.push(doc);
    ids.push(entry.ID);
    fingerprint.documents![entry.ID] = {
      ...res.fingerprint,
      currentReleaseDate: entry.CurrentReleaseDate ?? undefined,
    };
  }
  return { status: "updated", documents, ids, unchanged, fingerprint };
}

type GetResult =
  | { status: "not-modified" }
  | { status: "ok"; url: string; body: string; fingerprint: { etag?: string; lastModified?: string } };

async function conditionalGet(
  url: string,
  previous: { etag?: string; lastModified?: string } | undefined,
  options: FetchMsrcOptions,
): Promise<GetResult> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (previous?.etag) headers["If-None-Match"] = previous.etag;
  if (previous?.lastModified) headers["If-Modified-Since"] = previous.lastModified;
  let res: Response;
  try {
    res = await (options.fetch ?? globalThis.fetch)(url, {
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    throw new ScanError("msrc-feed-unreachable", `cannot fetch ${url}: ${(err as Error).message}`, {
      permanent: false,
      cause: err,
    });
  }
  if (res.status === 304) return { status: "not-modified" };
  if (!res.ok) {
    await res.body?.cancel();
    // 429 and 5xx are the feed's bad moment; other statuses will not fix themselves
    const transient = res.status === 429 || res.status >= 500;
    throw new ScanError("msrc-feed-http", `${url} answered HTTP ${res.status}`, { permanent: !transient });
  }
  const body = await readBounded(url, res, options.maxBytes ?? 64 * 1024 * 1024);
  return {
    status: "ok",
    url,
    body,
    fingerprint: {
      ...(res.headers.get("etag") ? { etag: res.headers.get("etag")! } : {}),
      ...(res.headers.get("last-modified") ? { lastModified: res.headers.get("last-modified")! } : {}),
    },
  };
}

async function readBounded(url: string, res: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.byteLength;
    if (total > maxBytes)
      throw new ScanError("msrc-feed-too-large", `${url} is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson<T>(url: string, body: string, schema: { parse(v: unknown): T }): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ScanError("msrc-feed-malformed", `${url} did not return JSON`);
  }
  try {
    return schema.parse(json);
  } catch (err) {
    throw new ScanError(
      "msrc-feed-malformed",
      `${url} is not the CVRF shape: ${(err as Error).message.slice(0, 300)}`,
      {
        cause: err,
      },
    );
  }
}
