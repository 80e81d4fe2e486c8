import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { InvariantError, ScanError } from "../model/errors.js";
import type { BlobStore } from "../ports/blob-store.js";
import {
  type AdvisoryEntry,
  bucketOf,
  type CurrentPointer,
  CurrentPointerSchema,
  type DbMetadata,
  DbMetadataSchema,
  dbKeys,
  packageKey,
  type Shard,
  ShardSchema,
} from "./db-format.js";

/** An opened DB version: metadata plus lazily loaded, process-cached shards. */
export interface DbHandle {
  readonly store: BlobStore;
  readonly metadata: DbMetadata;
  readonly pointer: CurrentPointer;
  /** advisories recorded for one package (by the name the advisories use: the source package for distributions) */
  advisoriesFor(ecosystem: string, name: string): Promise<readonly AdvisoryEntry[]>;
  /** loads every shard the given packages live in, so lookups after it are synchronous */
  preload(packages: Iterable<{ ecosystem: string; name: string }>): Promise<AdvisoryLookup>;
}

/** Synchronous lookup over shards already in memory. */
export type AdvisoryLookup = (ecosystem: string, name: string) => readonly AdvisoryEntry[];

// Versions are immutable, so a shard read once is good for the life of the process.
const shardCache = new WeakMap<BlobStore, Map<string, Promise<Shard | undefined>>>();

function cacheFor(store: BlobStore): Map<string, Promise<Shard | undefined>> {
  let cache = shardCache.get(store);
  if (!cache) {
    cache = new Map();
    shardCache.set(store, cache);
  }
  return cache;
}

function corrupt(key: string, cause: unknown): ScanError {
  return new ScanError("db-corrupt", `vulnerability DB is damaged (${key}); run \`portcullis db update\``, {
    permanent: true,
    cause,
  });
}

async function readJson(store: BlobStore, key: string, gzip: boolean): Promise<unknown> {
  const data = await store.get(key);
  if (data === undefined) return undefined;
  try {
    return JSON.parse((gzip ? gunzipSync(data) : data).toString("utf8"));
  } catch (err) {
    throw corrupt(key, err);
  }
}

export async function readPointer(store: BlobStore): Promise<CurrentPointer | undefined> {
  const raw = await readJson(store, dbKeys.current, false);
  if (raw === undefined) return undefined;
  const parsed = CurrentPointerSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(dbKeys.current, parsed.error);
  return parsed.data;
}

// a version's metadata never changes either: the stages open the DB once per image, and reading and
// validating it each time cost a rescan of the fleet more than half a millisecond per image
const metadataCache = new WeakMap<BlobStore, Map<string, DbMetadata>>();

export async function readMetadata(store: BlobStore, version: string): Promise<DbMetadata | undefined> {
  const cached = metadataCache.get(store)?.get(version);
  if (cached) return cached;
  const key = dbKeys.metadata(version);
  const raw = await readJson(store, key, false);
  if (raw === undefined) return undefined;
  const parsed = DbMetadataSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(key, parsed.error);
  const versions = metadataCache.get(store) ?? new Map<string, DbMetadata>();
  metadataCache.set(store, versions);
  versions.set(version, parsed.data);
  return parsed.data;
}

const ShardEnvelopeSchema = ShardSchema.extend({ packages: z.record(z.string(), z.array(z.unknown())) });

/**
 * Shards are our own writer's output, read back from our own store: the envelope is checked, the
 * 100,000s of entries are not re-validated one by one (that would dominate DB load time).
 */
function asShard(key: string, raw: unknown): Shard {
  const parsed = ShardEnvelopeSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(key, parsed.error);
  return raw as Shard;
}

function loadShard(store: BlobStore, key: string): Promise<Shard | undefined> {
  const cache = cacheFor(store);
  let pending = cache.get(key);
  if (!pending) {
    pending = readJson(store, key, true).then((raw) => {
      if (raw === undefined) return undefined;
      return asShard(key, raw);
    });
    // a failed read must not stick in the cache
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
  }
  return pending;
}

function shardKeyFor(metadata: DbMetadata, ecosystem: string, name: string): string | undefined {
  const state = metadata.ecosystems[ecosystem];
  if (!state) return undefined;
  return dbKeys.shard(state.shardVersion, ecosystem, bucketOf(packageKey(ecosystem, name), state.buckets));
}

async function shardOrThrow(store: BlobStore, key: string): Promise<Shard> {
  const shard = await loadShard(store, key);
  // metadata promised this shard: its absence means a damaged store, not "no advisories"
  if (!shard) throw corrupt(key, undefined);
  return shard;
}

/** Opens the current DB version, or undefined when there is none yet. */
export async function openDb(store: BlobStore): Promise<DbHandle | undefined> {
  const pointer = await readPointer(store);
  if (!pointer) return undefined;
  const metadata = await readMetadata(store, pointer.version);
  if (!metadata) throw corrupt(dbKeys.metadata(pointer.version), undefined);
  return openDbVersion(store, metadata, pointer);
}

export function openDbVersion(store: BlobStore, metadata: DbMetadata, pointer: CurrentPointer): DbHandle {
  const loaded = new Map<string, Shard>();
  const lookup: AdvisoryLookup = (ecosystem, name) => {
    const key = shardKeyFor(metadata, ecosystem, name);
    if (key === undefined) return [];
    const shard = loaded.get(key);
    if (!shard) throw new InvariantError(`shard ${key} was not preloaded`);
    return shard.packages[packageKey(ecosystem, name)] ?? [];
  };
  return {
    store,
    metadata,
    pointer,
    async advisoriesFor(ecosystem, name) {
      const key = shardKeyFor(metadata, ecosystem, name);
      if (key === undefined) return [];
      const shard = await shardOrThrow(store, key);
      return shard.packages[packageKey(ecosystem, name)] ?? [];
    },
    async preload(packages) {
      const keys = new Set<string>();
      for (const p of packages) {
        const key = shardKeyFor(metadata, p.ecosystem, p.name);
        if (key !== undefined && !loaded.has(key)) keys.add(key);
      }
      await Promise.all([...keys].map(async (key) => loaded.set(key, await shardOrThrow(store, key))));
      return lookup;
    },
  };
}

/** Every package's entries of one ecosystem (for rebuilding it and diffing against a new build). */
export async function readEcosystem(
  store: BlobStore,
  metadata: DbMetadata,
  ecosystem: string,
): Promise<Map<string, AdvisoryEntry[]>> {
  const out = new Map<string, AdvisoryEntry[]>();
  const state = metadata.ecosystems[ecosystem];
  if (!state) return out;
  for (let bucket = 0; bucket < state.buckets; bucket++) {
    const key = dbKeys.shard(state.shardVersion, ecosystem, bucket);
    const raw = await readJson(store, key, true);
    if (raw === undefined) continue;
    for (const [name, entries] of Object.entries(asShard(key, raw).packages)) out.set(name, entries);
  }
  return out;
}
