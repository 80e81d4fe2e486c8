import { rm } from "node:fs/promises";
import { ScanError } from "../model/errors.js";
import type { BlobStore } from "../ports/blob-store.js";
import { AdvisoryCollector, type CollectStats, type EcosystemEntries, writeDbVersion } from "./db-build.js";
import {
  type AdvisoryEntry,
  CVE_ECOSYSTEM,
  RATING_ECOSYSTEMS,
  DEBIAN_TRACKER_ECOSYSTEM,
  NVD_ECOSYSTEM,
  type DbMetadata,
  dbKeys,
  type EcosystemState,
  entryFeed,
  type FeedState,
  MSRC_FEED,
} from "./db-format.js";
import { type DbHandle, openDb, readEcosystem, readMetadata, readPointer } from "./db-read.js";
import { ecosystemBase } from "./osv.js";
import {
  DEFAULT_ECOSYSTEMS,
  DEFAULT_OSV_BASE_URL,
  exportUrl,
  type FeedFingerprint,
  fetchOsvExport,
  type ZipEntryLimits,
} from "./osv-export-feed.js";
import { collectMsrc } from "./msrc/msrc-update.js";
import { collectLocalRecords, collectZip } from "./osv-local-records.js";
import { collectTrackerFile, DEFAULT_DEBIAN_TRACKER_URL } from "./debian-tracker/tracker-feed.js";
import { collectNvd } from "./nvd/nvd-feed.js";

export type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/**
 * What a default update fetches: the OSV export of each ecosystem the inventory produces, MSRC, and
 * the rating feeds (CVE records, NVD, the Debian tracker) that rate what advisories leave unrated.
 */
export const DEFAULT_FEEDS: readonly string[] = [
  ...DEFAULT_ECOSYSTEMS,
  MSRC_FEED,
  CVE_ECOSYSTEM,
  NVD_ECOSYSTEM,
  DEBIAN_TRACKER_ECOSYSTEM,
];

/**
 * The CVE Program's records (JSON 5), as its cvelistV5 repository publishes them: a zip of
 * `cves/<year>/<n>xxx/CVE-….json`. Mirrors serve the same zip at `<mirror>/cve/cvelistV5.zip`.
 */
export const DEFAULT_CVE_URL = "https://github.com/CVEProject/cvelistV5/archive/refs/heads/main.zip";

export interface UpdateOptions extends ZipEntryLimits {
  /** OSV export base (`<base>/<Ecosystem>/all.zip`): the public bucket or an air-gapped mirror */
  baseUrl?: string;
  /** MSRC CVRF API base (`<base>/cvrf/v3.0/updates`): the public API or a mirror */
  msrcUrl?: string;
  /** a zip of CVE JSON 5 records (DEFAULT_CVE_URL or a mirror's copy): the CVE records' own ratings */
  cveUrl?: string;
  /** NVD's JSON 2.0 feed files, `<base>/nvdcve-2.0-<year>.json.gz` (DEFAULT_NVD_URL or a mirror's `<mirror>/nvd`) */
  nvdUrl?: string;
  /** the Debian security tracker's JSON (DEFAULT_DEBIAN_TRACKER_URL or a mirror's `<mirror>/debian-tracker/json`) */
  debianTrackerUrl?: string;
  /** feeds to fetch: OSV base ecosystem names, and "MSRC" for Microsoft's advisories (default DEFAULT_FEEDS) */
  ecosystems?: readonly string[];
  fetch?: typeof globalThis.fetch;
  log?: Log;
  now?: Date;
  tmpDir?: string;
  maxDownloadBytes?: number;
}

export interface FeedResult {
  feed: string;
  status: "unchanged" | "updated";
  bytes: number;
  stats?: CollectStats;
}

export interface UpdateResult {
  metadata: DbMetadata;
  /** false when every feed answered 304 and the DB was only re-stamped as checked */
  changed: boolean;
  feeds: FeedResult[];
}

/** One feed's new contents: every entry it publishes now, by ecosystem. */
interface FeedUpdate {
  feed: string;
  collected: Map<string, EcosystemEntries>;
}

async function currentMetadata(store: BlobStore): Promise<DbMetadata | undefined> {
  const pointer = await readPointer(store);
  return pointer ? readMetadata(store, pointer.version) : undefined;
}

function describe(stats: CollectStats): string {
  return `${stats.records} records, ${stats.withdrawn} withdrawn, ${stats.skipped} skipped`;
}

/** The feeds an ecosystem holds entries of; undefined when only its shards can tell (older DBs' imports). */
function knownFeeds(state: EcosystemState): readonly string[] | undefined {
  if (state.feeds) return state.feeds;
  return state.feed === "import" ? undefined : [state.feed];
}

/**
 * Applies each feed's update to the ecosystems it touches: the feed's previous entries are replaced
 * by its new ones, other feeds' entries stay (NuGet holds the OSV export's and MSRC's runtime packs).
 * An ecosystem left with no entries is dropped.
 */
async function mergeFeedUpdates(
  store: BlobStore,
  previous: DbMetadata | undefined,
  updates: readonly FeedUpdate[],
): Promise<{ rebuilt: Map<string, { packages: EcosystemEntries; feed: string }>; dropped: string[] }> {
  const working = new Map<string, { packages: EcosystemEntries; feed: string }>();
  for (const { feed, collected } of updates) {
    const touched = new Set(collected.keys());
    for (const [ecosystem, state] of Object.entries(previous?.ecosystems ?? {})) {
      const feeds = knownFeeds(state);
      if (feeds === undefined || feeds.includes(feed)) touched.add(ecosystem);
    }
    for (const ecosystem of touched) {
      const state = previous?.ecosystems[ecosystem];
      const feeds = state ? knownFeeds(state) : [];
      const onlyThisFeed = !working.has(ecosystem) && feeds !== undefined && feeds.every((f) => f === feed);
      // the common case, a feed alone in its ecosystems, never reads the old shards
      const packages: EcosystemEntries = onlyThisFeed
        ? new Map()
        : (working.get(ecosystem)?.packages ??
          (previous ? await readEcosystem(store, previous, ecosystem) : new Map()));
      for (const [name, entries] of packages) {
        const kept = entries.filter((e) => entryFeed(e, ecosystem) !== feed);
        if (kept.length > 0) packages.set(name, kept);
        else packages.delete(name);
      }
      for (const [name, entries] of collected.get(ecosystem) ?? [])
        packages.set(name, [...(packages.get(name) ?? []), ...entries]);
      working.set(ecosystem, { packages, feed });
    }
  }
  const rebuilt = new Map([...working].filter(([, e]) => e.packages.size > 0));
  const dropped = [...working]
    .filter(([ecosystem, e]) => e.packages.size === 0 && previous?.ecosystems[ecosystem])
    .map(([ecosystem]) => ecosystem);
  return { rebuilt, dropped };
}

/**
 * `db update`: fetches each feed conditionally and writes a new DB version holding the changed
 * feeds, carrying unchanged ones over. Any failure leaves the previous DB current.
 * A feed owns the entries it published, wherever they are: the `Debian` export replaces every
 * `Debian:*` entry of its own, MSRC its `Windows` and `NuGet` runtime-pack entries.
 */
export async function updateDb(store: BlobStore, options: UpdateOptions = {}): Promise<UpdateResult> {
  const baseUrl = options.baseUrl ?? DEFAULT_OSV_BASE_URL;
  const log = options.log ?? stderrLog;
  const now = options.now ?? new Date();
  const previous = await currentMetadata(store);
  const updates: FeedUpdate[] = [];
  const feeds: Record<string, FeedState> = {};
  // new fingerprints that change no entry: recorded only when a new version is written anyway
  const revalidated: Record<string, FeedState> = {};
  const feedBlobs: [string, Buffer][] = [];
  const results: FeedResult[] = [];
  for (const feed of options.ecosystems ?? DEFAULT_FEEDS) {
    if (feed === MSRC_FEED) {
      const msrc = await collectMsrc(store, previous?.feeds[feed], {
        now,
        ...(options.msrcUrl ? { baseUrl: options.msrcUrl } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.maxDownloadBytes ? { maxBytes: options.maxDownloadBytes } : {}),
      });
      if (msrc.status !== "updated") {
        if (msrc.status === "revalidated") revalidated[feed] = msrc.state;
        log(`${feed}: unchanged`);
        results.push({ feed, status: "unchanged", bytes: 0 });
        continue;
      }
      updates.push({ feed, collected: msrc.collector.ecosystems });
      feeds[feed] = msrc.state;
      feedBlobs.push(...msrc.blobs);
      const months = Object.keys(msrc.state.documents ?? {}).length;
      log(
        `${feed}: ${describe(msrc.collector.stats)} (${msrc.fetched.length} of ${months} months fetched: ${msrc.fetched.join(", ") || "none"})`,
      );
      for (const reason of msrc.collector.stats.skippedReasons.slice(0, 5)) log(`  skipped ${reason}`);
      results.push({ feed, status: "updated", bytes: msrc.bytes, stats: msrc.collector.stats });
      continue;
    }
    if (feed === NVD_ECOSYSTEM) {
      const nvd = await collectNvd(store, previous, {
        now,
        ...(options.nvdUrl ? { baseUrl: options.nvdUrl } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
        ...(options.maxDownloadBytes ? { maxDownloadBytes: options.maxDownloadBytes } : {}),
      });
      if (nvd.status === "unchanged") {
        log(`${feed}: unchanged`);
        results.push({ feed, status: "unchanged", bytes: 0 });
        continue;
      }
      updates.push({ feed, collected: nvd.collector.ecosystems });
      feeds[feed] = nvd.state;
      log(`${feed}: ${nvd.state.records} CVEs rated (years fetched: ${nvd.years.join(", ")})`);
      for (const reason of nvd.collector.stats.skippedReasons.slice(0, 5)) log(`  skipped ${reason}`);
      results.push({ feed, status: "updated", bytes: nvd.bytes, stats: nvd.collector.stats });
      continue;
    }
    const url =
      feed === CVE_ECOSYSTEM
        ? (options.cveUrl ?? DEFAULT_CVE_URL)
        : feed === DEBIAN_TRACKER_ECOSYSTEM
          ? (options.debianTrackerUrl ?? DEFAULT_DEBIAN_TRACKER_URL)
          : exportUrl(baseUrl, feed);
    const known = previous?.feeds[feed];
    // a fingerprint from another mirror says nothing about this one
    const fingerprint: FeedFingerprint | undefined =
      known && known.url === url ? { etag: known.etag, lastModified: known.lastModified } : undefined;
    const download = await fetchOsvExport({
      baseUrl,
      ecosystem: feed,
      url,
      ...(fingerprint ? { previous: fingerprint } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
      ...(options.maxDownloadBytes ? { maxBytes: options.maxDownloadBytes } : {}),
    });
    if (download.status === "not-modified") {
      log(`${feed}: unchanged`);
      results.push({ feed, status: "unchanged", bytes: 0 });
      continue;
    }
    const collector = new AdvisoryCollector({
      now,
      feed,
      acceptEcosystem: (eco) => ecosystemBase(eco) === feed,
    });
    try {
      // the tracker is one JSON document; every other feed a zip of records
      if (feed === DEBIAN_TRACKER_ECOSYSTEM) await collectTrackerFile(collector, download.file);
      else await collectZip(collector, download.file, options);
    } catch (err) {
      // the temp file's name means nothing to a user: say which feed and URL was bad
      if (err instanceof ScanError)
        throw new ScanError(err.code, `${feed} feed ${url}: ${err.message}`, {
          permanent: err.permanent,
          cause: err,
        });
      throw err;
    } finally {
      await rm(download.file, { force: true });
    }
    updates.push({ feed, collected: collector.ecosystems });
    feeds[feed] = {
      url,
      ...download.fingerprint,
      fetchedAt: now.toISOString(),
      records: collector.stats.records,
      skipped: collector.stats.skipped,
      withdrawn: collector.stats.withdrawn,
    };
    log(`${feed}: ${describe(collector.stats)} (${download.bytes} bytes)`);
    for (const reason of collector.stats.skippedReasons.slice(0, 5)) log(`  skipped ${reason}`);
    results.push({ feed, status: "updated", bytes: download.bytes, stats: collector.stats });
  }
  if (previous && updates.length === 0) {
    await store.put(
      dbKeys.current,
      JSON.stringify({ version: previous.version, checkedAt: now.toISOString() }),
      {
        contentType: "application/json",
      },
    );
    return { metadata: previous, changed: false, feeds: results };
  }
  const { rebuilt, dropped } = await mergeFeedUpdates(store, previous, updates);
  // the feeds' own documents first: the metadata that names them, then the pointer, come after
  for (const [key, data] of feedBlobs) await store.put(key, data, { contentType: "application/gzip" });
  const metadata = await writeDbVersion(store, {
    ...(previous ? { previous } : {}),
    rebuilt,
    dropped,
    feeds: { ...revalidated, ...feeds },
    now,
  });
  log(
    `vulnerability DB ${metadata.version}: ${metadata.changes.full ? "built" : `${metadata.changes.packages.length} packages changed`}`,
  );
  return { metadata, changed: true, feeds: results };
}

/**
 * `db import`: merges local records (a directory, a zip, or one JSON/YAML file) into the current DB,
 * replacing earlier entries with the same ids; withdrawn records remove theirs.
 */
export async function importRecords(
  store: BlobStore,
  target: string,
  options: ZipEntryLimits & { log?: Log; now?: Date } = {},
): Promise<{ metadata: DbMetadata; stats: CollectStats }> {
  const log = options.log ?? stderrLog;
  const now = options.now ?? new Date();
  const collector = new AdvisoryCollector({ now });
  await collectLocalRecords(collector, target, options);
  const previous = await currentMetadata(store);
  const rebuilt = new Map<string, { packages: EcosystemEntries; feed: string }>();
  for (const ecosystem of collector.touched) {
    const merged: EcosystemEntries = previous ? await readEcosystem(store, previous, ecosystem) : new Map();
    const incoming = collector.ecosystems.get(ecosystem) ?? new Map<string, AdvisoryEntry[]>();
    // a rating replaces the same CVE's rating under the same key only; an advisory replaces its id everywhere
    const replaced = RATING_ECOSYSTEMS.has(ecosystem)
      ? (name: string, e: AdvisoryEntry) => (incoming.get(name) ?? []).some((n) => n.id === e.id)
      : (_name: string, e: AdvisoryEntry) => collector.ids.has(e.id);
    for (const [name, entries] of merged) {
      const kept = entries.filter((e) => !replaced(name, e));
      if (kept.length > 0) merged.set(name, kept);
      else merged.delete(name);
    }
    for (const [name, entries] of collector.ecosystems.get(ecosystem) ?? []) {
      merged.set(name, [...(merged.get(name) ?? []), ...entries]);
    }
    rebuilt.set(ecosystem, { packages: merged, feed: previous?.ecosystems[ecosystem]?.feed ?? "import" });
  }
  log(`${target}: ${describe(collector.stats)}`);
  for (const reason of collector.stats.skippedReasons.slice(0, 5)) log(`  skipped ${reason}`);
  const metadata = await writeDbVersion(store, { ...(previous ? { previous } : {}), rebuilt, now });
  return { metadata, stats: collector.stats };
}

export interface DbStatus {
  version: string;
  updatedAt: string;
  checkedAt: string;
  ageMs: number;
  ecosystems: { ecosystem: string; advisories: number; packages: number }[];
  feeds: DbMetadata["feeds"];
}

export async function dbStatus(store: BlobStore, now: Date = new Date()): Promise<DbStatus | undefined> {
  const db = await openDb(store);
  if (!db) return undefined;
  return {
    version: db.metadata.version,
    updatedAt: db.metadata.updatedAt,
    checkedAt: db.pointer.checkedAt,
    ageMs: now.getTime() - Date.parse(db.metadata.updatedAt),
    ecosystems: Object.entries(db.metadata.ecosystems)
      .map(([ecosystem, s]) => ({ ecosystem, advisories: s.advisories, packages: s.packages }))
      .sort((a, b) => a.ecosystem.localeCompare(b.ecosystem)),
    feeds: db.metadata.feeds,
  };
}

export const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface EnsureDbOptions extends UpdateOptions {
  /** never touch the network: use what is there, fail when there is nothing */
  offline?: boolean;
  /** use the DB as it is, however old (fails only when there is none and offline) */
  skipUpdate?: boolean;
  /** a DB last checked longer ago than this is refreshed first */
  maxAge?: number;
}

export function formatAge(ms: number): string {
  if (ms < 60_000) return "less than a minute";
  const h = ms / 3_600_000;
  const [n, unit] =
    h < 1
      ? [Math.max(1, Math.round(ms / 60_000)), "minute"]
      : h < 48
        ? [Math.round(h), "hour"]
        : [Math.round(h / 24), "day"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * What `scan` calls first (Trivy's behaviour): a missing DB is downloaded, a stale one refreshed,
 * each announced on stderr — unless offline or told to skip. A failed refresh of a stale DB falls
 * back to the DB there is, with a warning.
 */
export async function ensureDb(store: BlobStore, options: EnsureDbOptions = {}): Promise<DbHandle> {
  const log = options.log ?? stderrLog;
  const now = options.now ?? new Date();
  const existing = await openDb(store);
  if (!existing) {
    if (options.offline) {
      throw new ScanError(
        "db-missing",
        "no vulnerability DB and --offline was given; run `portcullis db update` or `portcullis db import <dir|zip>` first",
      );
    }
    log("Vulnerability DB not found; downloading it (portcullis db update) …");
    await updateDb(store, { ...options, log });
    const fresh = await openDb(store);
    if (!fresh)
      throw new ScanError("db-missing", "the vulnerability DB update produced no DB", { permanent: false });
    return fresh;
  }
  const age = now.getTime() - Date.parse(existing.pointer.checkedAt);
  if (options.offline || options.skipUpdate || age <= (options.maxAge ?? DEFAULT_MAX_AGE_MS)) return existing;
  log(`Vulnerability DB is ${formatAge(age)} old; updating it …`);
  try {
    await updateDb(store, { ...options, log });
  } catch (err) {
    log(
      `warning: DB update failed (${(err as Error).message}); using the DB from ${existing.metadata.updatedAt}`,
    );
    return existing;
  }
  return (await openDb(store)) ?? existing;
}
