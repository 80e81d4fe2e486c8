import pLimit from "p-limit";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { BlobStore } from "../ports/blob-store.js";
import {
  CVE_ECOSYSTEM,
  type AdvisoryEntry,
  bucketCountFor,
  bucketOf,
  type CompactRange,
  DB_PREFIX,
  DB_SCHEMA_VERSION,
  type DbMetadata,
  dbKeys,
  type EcosystemState,
  entryFeed,
  type FeedState,
  RATING_ECOSYSTEMS,
  type PackageRef,
  packageKey,
  type Shard,
  sourceFeedOf,
} from "./db-format.js";
import { readEcosystem, readMetadata, readPointer } from "./db-read.js";
import { remediationHintOf } from "./msrc/remediation-hint.js";
import { isWithdrawn, type OsvAffected, type OsvRecord, parseOsvRecord } from "./osv.js";
import type { Severity, SeveritySource } from "../model/report.js";
import type { CveSeverity } from "./cve/cve-record.js";
import { advisorySeverity, type CvssScore } from "./severity.js";

/** package key → entries, for one ecosystem */
export type EcosystemEntries = Map<string, AdvisoryEntry[]>;

export interface CollectStats {
  records: number;
  skipped: number;
  withdrawn: number;
  /** the first few reasons records were skipped, for the log */
  skippedReasons: string[];
}

function reduceAffected(record: OsvRecord, affected: OsvAffected): AdvisoryEntry | undefined {
  const ranges: CompactRange[] = [];
  for (const r of affected.ranges ?? []) {
    if (r.type === "GIT") continue; // commit ranges cannot be compared with package versions
    const events: CompactRange["events"] = [];
    for (const e of r.events) {
      if (e.introduced !== undefined) events.push(["introduced", e.introduced]);
      else if (e.fixed !== undefined) events.push(["fixed", e.fixed]);
      else if (e.last_affected !== undefined) events.push(["last_affected", e.last_affected]);
      else if (e.limit !== undefined) events.push(["limit", e.limit]);
    }
    ranges.push({ type: r.type, events });
  }
  const versions = affected.versions ?? [];
  const onlyGit = (affected.ranges ?? []).length > 0 && ranges.length === 0;
  if (ranges.length === 0 && versions.length === 0) {
    if (onlyGit) return undefined;
    // neither ranges nor versions: the record says every version is affected
    ranges.push({ type: "ECOSYSTEM", events: [["introduced", "0"]] });
  }
  const { severity, source, cvss } = advisorySeverity(record, affected);
  const remediationHint = remediationHintOf(affected);
  return {
    id: record.id,
    aliases: [...new Set(record.aliases ?? [])].filter((a) => a !== record.id),
    ...(record.upstream?.length
      ? { upstream: [...new Set(record.upstream)].filter((u) => u !== record.id) }
      : {}),
    ...(record.summary ? { summary: record.summary } : {}),
    modified: record.modified,
    severity,
    ...(cvss ? { cvss } : {}),
    severitySource: source,
    ranges,
    ...(versions.length > 0 ? { versions } : {}),
    ...(remediationHint ? { remediationHint } : {}),
  };
}

/**
 * Validates and reduces untrusted OSV records into per-ecosystem, per-package entries.
 * Bad records are skipped and counted; withdrawn ones are counted and left out.
 */
export class AdvisoryCollector {
  readonly ecosystems = new Map<string, EcosystemEntries>();
  /** ids of every valid record seen, withdrawn ones included (an import replaces entries by id) */
  readonly ids = new Set<string>();
  /** ecosystems any valid record names, withdrawn ones included */
  readonly touched = new Set<string>();
  readonly stats: CollectStats = { records: 0, skipped: 0, withdrawn: 0, skippedReasons: [] };
  private readonly now: Date;
  private readonly accept: (ecosystem: string) => boolean;
  private readonly feed: string | undefined;

  /** `feed` tags every entry with the feed being read; without it, each record's sourceFeedOf */
  constructor(options: { now?: Date; acceptEcosystem?: (ecosystem: string) => boolean; feed?: string } = {}) {
    this.now = options.now ?? new Date();
    this.accept = options.acceptEcosystem ?? (() => true);
    this.feed = options.feed;
  }

  skip(reason: string): void {
    this.stats.skipped++;
    if (this.stats.skippedReasons.length < 20) this.stats.skippedReasons.push(reason);
  }

  add(raw: unknown): void {
    const parsed = parseOsvRecord(raw);
    if (!parsed.ok) {
      this.skip(parsed.reason);
      return;
    }
    const record = parsed.record;
    this.ids.add(record.id);
    for (const a of record.affected ?? [])
      if (a.package && this.accept(a.package.ecosystem)) this.touched.add(a.package.ecosystem);
    if (isWithdrawn(record, this.now)) {
      this.stats.withdrawn++;
      return;
    }
    this.stats.records++;
    for (const affected of record.affected ?? []) {
      if (!affected.package) continue;
      const ecosystem = affected.package.ecosystem;
      if (!this.accept(ecosystem)) continue;
      const entry = reduceAffected(record, affected);
      if (!entry) continue;
      entry.feed = this.feed ?? sourceFeedOf(record.id, ecosystem);
      let packages = this.ecosystems.get(ecosystem);
      if (!packages) {
        packages = new Map();
        this.ecosystems.set(ecosystem, packages);
      }
      const key = packageKey(ecosystem, affected.package.name);
      const list = packages.get(key) ?? [];
      const same = list.find((e) => e.id === entry.id);
      if (same) {
        // GHSA lists one package several times, one range each: one entry per (record, package)
        same.ranges.push(...entry.ranges);
        if (entry.versions) same.versions = [...new Set([...(same.versions ?? []), ...entry.versions])];
      } else {
        list.push(entry);
        packages.set(key, list);
      }
    }
  }

  /** A CVE record's own rating (cve-record.ts), stored for matching to rate findings no advisory rates. */
  addCve(rating: CveSeverity): void {
    this.addRating(CVE_ECOSYSTEM, rating.cveId, rating);
  }

  /**
   * A rating of one CVE from a rating feed (CVE records, NVD, the Debian tracker), kept under `key` in
   * the feed's pseudo-ecosystem: the CVE id itself, or `Debian:12/openssl` for a per-package rating.
   */
  addRating(ecosystem: string, key: string, rating: CveRating): void {
    if (!this.accept(ecosystem)) return;
    this.ids.add(rating.cveId);
    this.touched.add(ecosystem);
    this.stats.records++;
    let packages = this.ecosystems.get(ecosystem);
    if (!packages) {
      packages = new Map();
      this.ecosystems.set(ecosystem, packages);
    }
    const entry: AdvisoryEntry = {
      id: rating.cveId,
      aliases: [],
      modified: rating.updated ?? this.now.toISOString(),
      severity: rating.severity,
      ...(rating.cvss ? { cvss: rating.cvss } : {}),
      severitySource: rating.source,
      ranges: [],
      feed: this.feed ?? ecosystem,
    };
    const name = packageKey(ecosystem, key);
    packages.set(name, [...(packages.get(name) ?? []).filter((e) => e.id !== entry.id), entry]);
  }
}

/** One CVE's rating as a rating feed gives it. */
export interface CveRating {
  cveId: string;
  severity: Severity;
  source: SeveritySource;
  cvss?: CvssScore;
  /** when the feed last changed the record (bookkeeping: a new date alone is no rating change) */
  updated?: string;
}

export function newDbVersion(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, "")}-${randomBytes(3).toString("hex")}`;
}

/** Runs `fn` over `items` with at most `width` in flight (blob writes and deletes). */
async function inBatches<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const limit = pLimit(width);
  await Promise.all(items.map((item) => limit(() => fn(item))));
}

const byId = (a: AdvisoryEntry, b: AdvisoryEntry) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

async function writeEcosystem(
  store: BlobStore,
  version: string,
  ecosystem: string,
  packages: EcosystemEntries,
  feed: string,
): Promise<EcosystemState> {
  const buckets = bucketCountFor(packages.size);
  const shards: Shard[] = Array.from({ length: buckets }, (_, bucket) => ({
    schemaVersion: DB_SCHEMA_VERSION,
    ecosystem,
    bucket,
    packages: {},
  }));
  let advisories = 0;
  const feeds = new Set<string>();
  for (const key of [...packages.keys()].sort()) {
    const entries = [...(packages.get(key) ?? [])].sort(byId);
    shards[bucketOf(key, buckets)]!.packages[key] = entries;
    advisories += entries.length;
    for (const e of entries) feeds.add(entryFeed(e, ecosystem));
  }
  await inBatches(shards, 16, (shard) =>
    store.put(dbKeys.shard(version, ecosystem, shard.bucket), gzipSync(JSON.stringify(shard)), {
      contentType: "application/gzip",
    }),
  );
  const owners = [...feeds].sort();
  // one feed alone names the ecosystem's source; a shared one keeps the caller's label and lists them all
  return {
    advisories,
    packages: packages.size,
    buckets,
    shardVersion: version,
    feed: owners.length === 1 ? owners[0]! : feed,
    feeds: owners,
  };
}

/** An entry as a rescan sees it: which feed tagged it is bookkeeping, and so is a rating's date. */
function canonicalEntries(ecosystem: string, list: AdvisoryEntry[] | undefined): string[] {
  const rating = RATING_ECOSYSTEMS.has(ecosystem);
  return [...(list ?? [])]
    .sort(byId)
    .map(({ feed: _feed, modified, ...rest }) => JSON.stringify(rating ? rest : { ...rest, modified }));
}

interface PackageDiff {
  packages: PackageRef[];
  /** ids of rating entries added, removed or re-rated (rating ecosystems only) */
  ratedIds: string[];
}

function diffPackages(ecosystem: string, before: EcosystemEntries, after: EcosystemEntries): PackageDiff {
  const diff: PackageDiff = { packages: [], ratedIds: [] };
  const rating = RATING_ECOSYSTEMS.has(ecosystem);
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const was = canonicalEntries(ecosystem, before.get(name));
    const now = canonicalEntries(ecosystem, after.get(name));
    if (was.join("\n") === now.join("\n")) continue;
    diff.packages.push({ ecosystem, name });
    if (!rating) continue;
    const wasSet = new Set(was);
    const nowSet = new Set(now);
    const moved = [...was.filter((e) => !nowSet.has(e)), ...now.filter((e) => !wasSet.has(e))];
    for (const e of moved) diff.ratedIds.push((JSON.parse(e) as { id: string }).id);
  }
  return diff;
}

export interface WriteDbOptions {
  /** the DB being replaced, if any: unchanged ecosystems are carried over by reference */
  previous?: DbMetadata;
  /** ecosystems to (re)write with their full contents, and the feed (the updating one) each came from */
  rebuilt: Map<string, { packages: EcosystemEntries; feed: string }>;
  /** ecosystems of `previous` to drop (their feed no longer lists them) */
  dropped?: Iterable<string>;
  feeds?: Record<string, FeedState>;
  now?: Date;
}

/**
 * Writes a new DB version — shards, then metadata, then the `current` pointer — and removes versions
 * no reader can still be using. A crash before the pointer leaves the previous version current.
 */
export async function writeDbVersion(store: BlobStore, options: WriteDbOptions): Promise<DbMetadata> {
  const now = options.now ?? new Date();
  const version = newDbVersion(now);
  const previous = options.previous;
  const ecosystems: Record<string, EcosystemState> = { ...(previous?.ecosystems ?? {}) };
  const changes: PackageRef[] = [];
  const changedCves = new Set<string>();
  const record = (diff: PackageDiff) => {
    // a whole ecosystem can change: iterate, never spread a list of unknown length into arguments
    for (const c of diff.packages) changes.push(c);
    for (const id of diff.ratedIds) changedCves.add(id);
  };
  for (const ecosystem of options.dropped ?? []) {
    if (previous && ecosystems[ecosystem])
      record(diffPackages(ecosystem, await readEcosystem(store, previous, ecosystem), new Map()));
    delete ecosystems[ecosystem];
  }
  for (const [ecosystem, { packages, feed }] of options.rebuilt) {
    if (previous?.ecosystems[ecosystem]) {
      record(diffPackages(ecosystem, await readEcosystem(store, previous, ecosystem), packages));
    } else if (previous && RATING_ECOSYSTEMS.has(ecosystem)) {
      // a rating feed new to this DB rates every CVE it holds for the first time
      for (const entries of packages.values()) for (const e of entries) changedCves.add(e.id);
    }
    ecosystems[ecosystem] = await writeEcosystem(store, version, ecosystem, packages, feed);
  }
  const metadata: DbMetadata = {
    schemaVersion: DB_SCHEMA_VERSION,
    version,
    updatedAt: now.toISOString(),
    ecosystems,
    feeds: { ...(previous?.feeds ?? {}), ...(options.feeds ?? {}) },
    changes: previous
      ? {
          since: previous.version,
          full: false,
          packages: [
            ...changes,
            // an ecosystem new to this DB: every package in it is new
            ...[...options.rebuilt]
              .filter(([eco]) => !previous.ecosystems[eco])
              .flatMap(([ecosystem, { packages }]) =>
                [...packages.keys()].map((name) => ({ ecosystem, name })),
              ),
          ],
          changedCves: [...changedCves].sort(),
        }
      : { since: null, full: true, packages: [] },
  };
  await store.put(dbKeys.metadata(version), JSON.stringify(metadata), { contentType: "application/json" });
  const replaced = await readPointer(store);
  await store.put(dbKeys.current, JSON.stringify({ version, checkedAt: now.toISOString() }), {
    contentType: "application/json",
  });
  const stillRead = [
    previous,
    replaced && replaced.version !== previous?.version
      ? await readMetadata(store, replaced.version)
      : undefined,
  ];
  await collectGarbage(store, [metadata, ...stillRead.filter((m): m is DbMetadata => m !== undefined)], now);
  return metadata;
}

/** How long a version directory nobody points at may be an update still in progress. */
const IN_PROGRESS_GRACE_MS = 60 * 60 * 1000;

function versionTime(version: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(version);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!) : 0;
}

/**
 * Deletes version directories referenced neither by the new DB nor by the one(s) just replaced
 * (a reader may still hold those), sparing recent ones that may be another updater's work in progress.
 */
async function collectGarbage(store: BlobStore, live: DbMetadata[], now: Date): Promise<void> {
  const keep = new Set<string>();
  for (const m of live) {
    keep.add(m.version);
    for (const e of Object.values(m.ecosystems)) keep.add(e.shardVersion);
    for (const f of Object.values(m.feeds))
      for (const d of Object.values(f.documents ?? {})) keep.add(d.storedIn);
  }
  const doomed: string[] = [];
  for await (const key of store.list(`${DB_PREFIX}/`)) {
    if (key === dbKeys.current) continue;
    const version = key.slice(DB_PREFIX.length + 1).split("/")[0];
    if (!version || keep.has(version)) continue;
    if (now.getTime() - versionTime(version) < IN_PROGRESS_GRACE_MS) continue;
    doomed.push(key);
  }
  await inBatches(doomed, 16, (key) => store.delete(key));
}

/**
 * Builds a complete DB from records (bench and tests): every ecosystem found is written.
 * Returns the metadata and the collection statistics.
 */
export async function buildDbFromRecords(
  store: BlobStore,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  options: { now?: Date } = {},
): Promise<{ metadata: DbMetadata; stats: CollectStats }> {
  const collector = new AdvisoryCollector(options.now ? { now: options.now } : {});
  for await (const record of records) collector.add(record);
  const rebuilt = new Map(
    [...collector.ecosystems].map(([eco, packages]) => [eco, { packages, feed: "import" }]),
  );
  const metadata = await writeDbVersion(store, { rebuilt, ...(options.now ? { now: options.now } : {}) });
  return { metadata, stats: collector.stats };
}
