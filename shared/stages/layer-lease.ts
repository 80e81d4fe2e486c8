import type { TableProperties, TableStore } from "../ports/table-store.js";
import { TABLES } from "./tables.js";
import { ScanError } from "../model/errors.js";

/**
 * A per-layer lease in the `layerleases` table (PK layer digest, RK analyzer set), so that scans
 * resolved at the same time — two platforms of an index, twenty images on one base — download a
 * shared layer once. The holder renews it while it works and deletes it once the report is stored;
 * everyone else waits for the report to appear in the layer cache and joins. A holder that died
 * stops renewing: its lease runs out and the next waiter takes it over under the row's ETag.
 */
export interface LayerLeaseOptions {
  /** how long a lease lasts unrenewed: the longest a crashed holder can hold others up */
  leaseMs: number;
  /** the longest one delivery waits for other holders before it fails (and the bus retries it) */
  maxWaitMs: number;
  /** first and longest pause between looks at the layer cache while another handler holds the lease */
  pollMs: { min: number; max: number };
}

export const DEFAULT_LAYER_LEASE: LayerLeaseOptions = {
  leaseMs: 60_000,
  // under host.json's 10-minute functionTimeout and lock renewal: give up in time for the bus to retry
  maxWaitMs: 8 * 60_000,
  pollMs: { min: 25, max: 1_000 },
};

export interface LayerLeaseKey {
  digest: string;
  analyzerSet: string;
}

export interface LayerLeaseWork {
  /** whether the layer's report is in the layer cache */
  isStored(): Promise<boolean>;
  /** downloads and analyses the layer, storing its report; runs only under the lease */
  analyze(): Promise<void>;
}

export interface LayerLeaseDeps {
  tables: TableStore;
  now(): Date;
  log(message: string): void;
}

/** How the layer's report came to be in the cache for this handler. */
export type LayerLeaseOutcome = "cached" | "analyzed" | "joined";

/** Claim attempts per delivery: each one follows a lease that ended without a report. */
const MAX_ROUNDS = 20;

/**
 * Makes sure the layer's report is stored: found in the cache, analysed under the lease, or
 * awaited while another handler holds the lease. `holder` names this work (the scan id): a
 * redelivery finding its own lease knows the earlier delivery died and takes the lease back at once.
 */
export async function ensureLayerReport(
  key: LayerLeaseKey,
  holder: string,
  work: LayerLeaseWork,
  deps: LayerLeaseDeps,
  options: LayerLeaseOptions = DEFAULT_LAYER_LEASE,
): Promise<LayerLeaseOutcome> {
  const giveUpAt = performance.now() + options.maxWaitMs;
  let waited = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (await work.isStored()) return waited ? "joined" : "cached";
    const claim = await claimLayerLease(key, holder, deps, options.leaseMs);
    if (claim.ok) {
      const lease = holdLayerLease(key, holder, claim.etag, deps, options.leaseMs);
      try {
        await work.analyze();
      } finally {
        // released on failure too: a waiter then tries itself and fails its own scan with the reason
        await lease.release();
      }
      return "analyzed";
    }
    waited = true;
    if ((await waitForReport(key, work, deps, options, giveUpAt)) === "stored") return "joined";
    if (performance.now() >= giveUpAt) break;
  }
  throw new ScanError(
    "layer-lease-timeout",
    `layer ${key.digest}: still leased by another handler after waiting ${Math.round(options.maxWaitMs / 1000)} s`,
    { permanent: false },
  );
}

type Claim = { ok: true; etag: string } | { ok: false; holder: string; leasedUntil: number };

/** Inserts the lease, or takes over an expired one (or our own dead delivery's) under its ETag. */
export async function claimLayerLease(
  key: LayerLeaseKey,
  holder: string,
  deps: LayerLeaseDeps,
  leaseMs: number,
): Promise<Claim> {
  const { tables } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const row = leaseRow(holder, deps.now().getTime() + leaseMs);
    const inserted = await tables.insertIfAbsent(TABLES.layerLeases, key.digest, key.analyzerSet, row);
    if (inserted.ok) return { ok: true, etag: inserted.etag };
    const current = await tables.get(TABLES.layerLeases, key.digest, key.analyzerSet);
    if (!current) continue; // released between our insert and our read: try the insert again
    const owner = String(current.properties.holder ?? "");
    const leasedUntil = Date.parse(String(current.properties.leasedUntil ?? ""));
    const live = Number.isFinite(leasedUntil) && leasedUntil > deps.now().getTime();
    if (live && owner !== holder) return { ok: false, holder: owner, leasedUntil };
    const taken = await tables.updateIfMatch(
      TABLES.layerLeases,
      key.digest,
      key.analyzerSet,
      row,
      current.etag,
    );
    if (taken.ok) {
      deps.log(
        `layer ${key.digest}: lease of ${owner || "?"} ${live ? "was our own dead delivery's" : "expired"}, taken over`,
      );
      return { ok: true, etag: taken.etag };
    }
    // another waiter took it over (or the holder renewed or released it) first: look again
  }
  const current = await tables.get(TABLES.layerLeases, key.digest, key.analyzerSet);
  return {
    ok: false,
    holder: String(current?.properties.holder ?? "?"),
    leasedUntil: deps.now().getTime() + leaseMs,
  };
}

function leaseRow(holder: string, leasedUntil: number): TableProperties {
  return { holder, leasedUntil: new Date(leasedUntil).toISOString() };
}

interface HeldLease {
  release(): Promise<void>;
}

/** Renews the lease every third of its length while the work runs; `release` deletes it under its ETag. */
function holdLayerLease(
  key: LayerLeaseKey,
  holder: string,
  etag: string,
  deps: LayerLeaseDeps,
  leaseMs: number,
): HeldLease {
  let current: string | undefined = etag;
  let chain = Promise.resolve();
  const renew = async () => {
    if (current === undefined) return;
    const renewed = await deps.tables.updateIfMatch(
      TABLES.layerLeases,
      key.digest,
      key.analyzerSet,
      leaseRow(holder, deps.now().getTime() + leaseMs),
      current,
    );
    // lost (taken over after a stall): keep working, the report is the same whoever stores it
    current = renewed.ok ? renewed.etag : undefined;
  };
  const timer = setInterval(() => {
    chain = chain.then(renew).catch((err: unknown) => {
      deps.log(`layer ${key.digest}: lease renewal failed: ${(err as Error).message ?? String(err)}`);
    });
  }, leaseMs / 3);
  return {
    async release() {
      clearInterval(timer);
      await chain;
      if (current === undefined) return;
      const etag = current;
      current = undefined;
      try {
        await deps.tables.delete(TABLES.layerLeases, key.digest, key.analyzerSet, { etag });
      } catch (err) {
        // a lease left behind only delays the next claimant until it expires
        deps.log(`layer ${key.digest}: lease release failed: ${(err as Error).message ?? String(err)}`);
      }
    },
  };
}

/**
 * Polls the layer cache with backoff while someone else holds the lease: "stored" when the report
 * appears, "free" when the lease is released or has run out (time to claim it).
 */
async function waitForReport(
  key: LayerLeaseKey,
  work: LayerLeaseWork,
  deps: LayerLeaseDeps,
  options: LayerLeaseOptions,
  giveUpAt: number,
): Promise<"stored" | "free"> {
  let pause = options.pollMs.min;
  while (performance.now() < giveUpAt) {
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, options.pollMs.max);
    if (await work.isStored()) return "stored";
    const lease = await deps.tables.get(TABLES.layerLeases, key.digest, key.analyzerSet);
    if (!lease) return "free";
    const leasedUntil = Date.parse(String(lease.properties.leasedUntil ?? ""));
    if (!(leasedUntil > deps.now().getTime())) return "free";
  }
  return "free";
}
