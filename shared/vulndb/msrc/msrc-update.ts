import { gunzipSync, gzipSync } from "node:zlib";
import { InvariantError, ScanError } from "../../model/errors.js";
import type { BlobStore } from "../../ports/blob-store.js";
import { AdvisoryCollector, newDbVersion } from "../db-build.js";
import { dbKeys, type FeedDocumentState, type FeedState, MSRC_FEED } from "../db-format.js";
import {
  type CvrfDocument,
  CvrfDocumentSchema,
  CvrfVulnerabilitySchema,
  REMEDIATION_VENDOR_FIX,
  THREAT_SEVERITY,
} from "./cvrf-schema.js";
import { cvrfToOsv } from "./cvrf-to-osv.js";
import { DEFAULT_MSRC_BASE_URL, fetchMsrcUpdates, type MsrcFingerprint } from "./msrc-feed.js";
import { productTargets } from "./msrc-product.js";

export interface CollectMsrcOptions {
  /** the MSRC API base (`<base>/cvrf/v3.0/updates`): the public API or a mirror */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  maxBytes?: number;
  now: Date;
}

export type MsrcCollection =
  /** the updates index answered 304 */
  | { status: "unchanged" }
  /** the index changed but no month did: only the index fingerprint is new */
  | { status: "revalidated"; state: FeedState }
  | {
      status: "updated";
      /** the MSRC records of every month, tagged with the MSRC feed */
      collector: AdvisoryCollector;
      state: FeedState;
      /** the fetched months, trimmed, to store with the new DB version (key → gzip) */
      blobs: [string, Buffer][];
      fetched: string[];
      bytes: number;
    };

/** Which document states a fingerprint can reuse: only months whose trimmed copy is stored. */
function fingerprintOf(state: FeedState): MsrcFingerprint {
  return {
    index: {
      ...(state.etag ? { etag: state.etag } : {}),
      ...(state.lastModified ? { lastModified: state.lastModified } : {}),
    },
    documents: Object.fromEntries(
      Object.entries(state.documents ?? {}).map(([id, { storedIn: _, ...rest }]) => [id, rest]),
    ),
  };
}

/**
 * What conversion reads of a month, and no more: tracked products, vendor fixes, severities, CVSS.
 * A real month is megabytes of notes; the stored copy is a small fraction of it.
 */
export function trimCvrfDocument(doc: CvrfDocument): CvrfDocument {
  return {
    DocumentTitle: doc.DocumentTitle,
    DocumentTracking: doc.DocumentTracking,
    ProductTree: {
      FullProductName: (doc.ProductTree.FullProductName ?? []).filter(
        (p) => productTargets(p.Value).length > 0,
      ),
    },
    Vulnerability: (doc.Vulnerability ?? []).map((raw) => {
      const parsed = CvrfVulnerabilitySchema.safeParse(raw);
      // an invalid one is kept as it came, so every later conversion reports it the same way
      if (!parsed.success) return raw;
      const v = parsed.data;
      return {
        ...v,
        Threats: v.Threats?.filter((t) => t.Type === THREAT_SEVERITY),
        Remediations: v.Remediations?.filter((r) => r.Type === REMEDIATION_VENDOR_FIX),
      };
    }),
  };
}

async function readStoredDocument(store: BlobStore, key: string): Promise<CvrfDocument> {
  const data = await store.get(key);
  const parsed = data === undefined ? undefined : CvrfDocumentSchema.safeParse(tryJson(gunzipSync(data)));
  if (!parsed?.success)
    throw new ScanError(
      "db-corrupt",
      `vulnerability DB is damaged (${key}); run \`portcullis db update\` with a fresh cache`,
      {
        permanent: true,
      },
    );
  return parsed.data;
}

function tryJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The MSRC feed's half of `db update`: conditional fetch of the updates index and of each month
 * whose CurrentReleaseDate moved, then every month (fetched or stored) converted together — a CVE
 * republished in a later month merges across months, so the feed is always rebuilt whole.
 */
export async function collectMsrc(
  store: BlobStore,
  previous: FeedState | undefined,
  options: CollectMsrcOptions,
): Promise<MsrcCollection> {
  const baseUrl = (options.baseUrl ?? DEFAULT_MSRC_BASE_URL).replace(/\/+$/, "");
  const url = `${baseUrl}/cvrf/v3.0/updates`;
  // a fingerprint from another mirror says nothing about this one
  const known = previous?.url === url ? previous : undefined;
  const result = await fetchMsrcUpdates({
    baseUrl,
    ...(known ? { previous: fingerprintOf(known) } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
  });
  if (result.status === "not-modified") return { status: "unchanged" };

  const months = [...result.ids, ...result.unchanged];
  const index = {
    ...(result.fingerprint.index?.etag ? { etag: result.fingerprint.index.etag } : {}),
    ...(result.fingerprint.index?.lastModified
      ? { lastModified: result.fingerprint.index.lastModified }
      : {}),
  };
  const documentState = (id: string, storedIn: string): FeedDocumentState => ({
    ...result.fingerprint.documents?.[id],
    storedIn,
  });
  const knownMonths = Object.keys(known?.documents ?? {});
  if (
    known &&
    result.ids.length === 0 &&
    knownMonths.length === months.length &&
    months.every((m) => known.documents?.[m] !== undefined)
  ) {
    const documents = Object.fromEntries(
      months.map((m) => [m, documentState(m, known.documents![m]!.storedIn)]),
    );
    return { status: "revalidated", state: { ...known, ...index, documents } };
  }

  const storedIn = newDbVersion(options.now);
  const blobs: [string, Buffer][] = [];
  const documents: CvrfDocument[] = [];
  const states: Record<string, FeedDocumentState> = {};
  let bytes = 0;
  result.documents.forEach((doc, i) => {
    const id = result.ids[i]!;
    const trimmed = trimCvrfDocument(doc);
    const gz = gzipSync(JSON.stringify(trimmed));
    bytes += gz.length;
    blobs.push([dbKeys.feedDocument(storedIn, MSRC_FEED, id), gz]);
    documents.push(trimmed);
    states[id] = documentState(id, storedIn);
  });
  for (const id of result.unchanged) {
    const before = known?.documents?.[id];
    // fetchMsrcUpdates only skips months the fingerprint names, and it names stored ones only
    if (!before) throw new InvariantError(`MSRC month ${id} reported unchanged without a stored copy`);
    documents.push(await readStoredDocument(store, dbKeys.feedDocument(before.storedIn, MSRC_FEED, id)));
    states[id] = documentState(id, before.storedIn);
  }

  const { records, stats } = cvrfToOsv(documents);
  const collector = new AdvisoryCollector({ now: options.now, feed: MSRC_FEED });
  for (const reason of stats.invalid) collector.skip(`MSRC: ${reason}`);
  for (const record of records) collector.add(record);
  const state: FeedState = {
    url,
    ...index,
    fetchedAt: options.now.toISOString(),
    records: collector.stats.records,
    skipped: collector.stats.skipped,
    withdrawn: collector.stats.withdrawn,
    documents: states,
  };
  return { status: "updated", collector, state, blobs, fetched: result.ids, bytes };
}
