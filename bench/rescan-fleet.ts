// A full re-verdict of a fleet of stored inventories (default 10,000; `--images N` or `--quick` for
// 200) through the local host's stages — `POST /api/rescans` for every repository, then matching and
// verdict over Azurite tables, blobs and queues — against matching and deciding the same inventories
// in one process without the bus (`--images N`, `--quick` = 200, or BENCH_IMAGES). Where the stages' time goes is measured around every storage,
// bus, match and policy call. Target: 10,000 in under 60 s on 2 cores. Then a targeted DB update: a
// new advisory for a package about 1 % of the images carry, rescanned through the package index, with
// the registry requests it made (must be 0).
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadPolicyInputs } from "../shared/composition/load-policy-inputs.js";
import { SettingsSchema } from "../shared/composition/settings.js";
import { advisoryCoordinates, matchInventory } from "../shared/matching/match.js";
import { makeReport } from "../shared/stages/make-report.js";
import { openDb } from "../shared/vulndb/db-read.js";
import { startLocalHost } from "../shared/local/host.js";
import { scanIdOf } from "../shared/model/messages.js";
import type { Inventory, Report } from "../shared/model/report.js";
import { writePackageIndex } from "../shared/stages/findings.js";
import { rescanChangedImages } from "../shared/stages/jobs/db-refresh.js";
import { changeSetOf } from "../shared/vulndb/db-changes.js";
import { readRescanProgress, readRescanRun } from "../shared/stages/rescan-runs.js";
import { createScan } from "../shared/stages/scan-state.js";
import { writeScannedImage } from "../shared/stages/scanned-images.js";
import { storeInventory } from "../shared/stages/stage-blobs.js";
import { blobKeys } from "../shared/stages/tables.js";
import { buildDbFromRecords } from "../shared/vulndb/db-build.js";
import { storedFleet } from "./support/stored-fleet.js";

const args = process.argv.slice(2);
const sizeArg = args.indexOf("--images");
// `npm run bench` passes no flags: BENCH_IMAGES=200 npm run bench rescan-fleet runs it small
const COUNT = args.includes("--quick")
  ? 200
  : sizeArg >= 0
    ? Number(args[sizeArg + 1])
    : Number(process.env.BENCH_IMAGES ?? 10_000);
if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error("--images N: a positive whole number");
const REGISTRY = "registry.bench.invalid";
const CONCURRENCY = 32;

/** Runs `work(i)` for 0…count-1, `CONCURRENCY` at a time. */
async function forEach(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** CPU time (user + system, all threads) since `from`: the machine is shared, wall time is noisy. */
const cpuMsSince = (from: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1000;
};

/**
 * The main thread's own CPU in ms (Linux, from /proc; undefined elsewhere): the event loop's share,
 * which bounds the wall time when the verdict thread and the checkpointer have the other core.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    // the fields after the command name's closing parenthesis: utime and stime are the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Each thread's CPU in ms by thread id with its name (Linux, from /proc; empty elsewhere). */
function threadCpuMs(): Map<string, { name: string; ms: number }> {
  const threads = new Map<string, { name: string; ms: number }>();
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      threads.set(tid, { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    }
  } catch {
    // not Linux: the per-thread line is left out
  }
  return threads;
}

/**
 * Wraps every method of `target` named in `methods` to count calls and sum their time under `label`:
 * `ms` from the call to its settling (with 32 handlers in flight that includes the other handlers'
 * work done while it waits, so it overstates an async call), `syncMs` until it returns its promise
 * (the SQLite stores work synchronously: for them that is their whole CPU cost).
 */
const busy = new Map<string, { calls: number; ms: number; syncMs: number }>();
function measure(target: object, label: string, methods: readonly string[]): void {
  const t = target as Record<string, (...a: unknown[]) => unknown>;
  for (const name of methods) {
    // an optional port method the host left out is not there to count
    if (typeof t[name] !== "function") continue;
    const original = t[name].bind(target);
    t[name] = (...a: unknown[]) => {
      const key = `${label}.${name}${typeof a[0] === "string" && label === "tables" ? `(${a[0]})` : ""}`;
      const entry = busy.get(key) ?? { calls: 0, ms: 0, syncMs: 0 };
      busy.set(key, entry);
      entry.calls++;
      const started = performance.now();
      const result = original(...a);
      entry.syncMs += performance.now() - started;
      if (result instanceof Promise)
        return result.finally(() => {
          entry.ms += performance.now() - started;
        });
      entry.ms += performance.now() - started;
      return result;
    };
  }
}

const dataDir = await mkdtemp(path.join(tmpdir(), "portcullis-bench-rescan-"));
const host = await startLocalHost({
  dataDir,
  port: 0,
  settings: SettingsSchema.parse({ PORTCULLIS_RESCAN_BATCH_SIZE: "64" }),
  db: { offline: true },
  rescanIntervalMs: 0,
  dbRefreshIntervalMs: 0,
  log: () => {},
});
try {
  const fleet = await storedFleet(REGISTRY);
  // advisories for the fleet's real package names: a third affected in every version, a third fixed at the installed version
  const records = fleet.packages.flatMap((p, i) => {
    if (i % 3 === 2) return [];
    return [
      {
        schema_version: "1.6.0",
        id: `BENCH-${i}`,
        modified: "2026-01-01T00:00:00Z",
        ...(i % 2 === 0
          ? { severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }] }
          : {}),
        affected: [
          {
            package: { ecosystem: p.ecosystem, name: p.source?.name ?? p.name },
            ranges: [
              {
                type: "ECOSYSTEM",
                events: [{ introduced: "0" }, ...(i % 3 === 1 ? [{ fixed: p.version }] : [])],
              },
            ],
          },
        ],
      },
    ];
  });
  const { stats } = await buildDbFromRecords(host.pipeline.blobs, records, {
    now: new Date("2026-01-01T00:00:00Z"),
  });

  // seed: inventory blob, platform scan row and images row per image, as a push would have left them
  let t = performance.now();
  const inventories: Inventory[] = [];
  let packages = 0;
  await forEach(COUNT, async (i) => {
    const { digest, inventory } = fleet.image(i);
    inventories[i] = inventory;
    packages += inventory.packages.length;
    const { registry, repository, platform } = inventory.image;
    const scanId = scanIdOf({ registry, repository, digest, platform });
    const inventoryKey = blobKeys.inventory(digest, inventory.analyzerSet);
    const at = "2026-01-01T00:00:00.000Z";
    await storeInventory(host.pipeline.blobs, inventoryKey, inventory);
    await createScan(host.pipeline.tables, {
      ...{ scanId, kind: "platform", status: "done", registry, repository, digest, platform },
      ...{ tags: inventory.image.tags, layers: [], pending: [], children: [], decision: "pass" },
      ...{ createdAt: at, updatedAt: at },
    });
    await writeScannedImage(host.pipeline.tables, {
      ...{ registry, repository, digest, scanId, tags: inventory.image.tags, platform, os: "" },
      ...{ status: "done", decision: "pass", reasons: [], counts: {}, findings: 0, packages: 0 },
      ...{ dbVersion: "old", inventoryKey, reportKey: "", scannedAt: at },
    });
  });
  const seedMs = performance.now() - t;

  // one process, no bus, no storage round trips: the DB opened once, then matching and the policy per inventory
  t = performance.now();
  let cpu = process.cpuUsage();
  let findings = 0;
  const db = await openDb(host.pipeline.blobs);
  if (!db) throw new Error("no DB");
  const stamp = { version: db.metadata.version, updatedAt: db.metadata.updatedAt };
  const { policy } = await loadPolicyInputs(undefined);
  for (const inventory of inventories) {
    const matches = await matchInventory(inventory.packages, db);
    findings += makeReport(inventory, matches, stamp, { policy, now: new Date() }).report.findings.length;
  }
  const inProcessMs = performance.now() - t;
  const inProcessCpuMs = cpuMsSince(cpu);

  measure(host.pipeline.tables, "tables", [
    "get",
    "upsert",
    "upsertMany",
    "insertIfAbsent",
    "updateIfMatch",
    "delete",
  ]);
  measure(host.pipeline.blobs, "blobs", ["get", "put", "putMany"]);
  measure(host.pipeline.bus, "bus", ["send", "sendBatch"]);
  measure(host.pipeline, "pipeline", ["match", "decide"]);
  measure(host.pipeline, "registry", ["openSource", "digestsTaggedNow"]);

  // `--cpu-prof FILE`: a V8 CPU profile of the stage phase alone (not the seeding nor the in-process loop)
  const profileArg = args.indexOf("--cpu-prof");
  const profiler = profileArg >= 0 ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  t = performance.now();
  cpu = process.cpuUsage();
  const mainCpuBefore = mainThreadCpuMs();
  const threadsBefore = threadCpuMs();
  const started = await fetch(`${host.url}/api/rescans`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${host.hookToken}` },
    body: JSON.stringify({ repository: "*" }),
  });
  const body = (await started.json()) as { rescanId: string };
  if (started.status !== 202) throw new Error(`POST /api/rescans: ${started.status} ${JSON.stringify(body)}`);
  const answeredMs = performance.now() - t;
  // every repository: the 202 comes at once, the images are queued in the background
  while ((await readRescanRun(host.pipeline.tables, body.rescanId))?.status === "queuing")
    await new Promise((r) => setTimeout(r, 100));
  const queuedMs = performance.now() - t;
  while ((await host.bus.depth("matching")) + (await host.bus.depth("verdict")) > 0)
    await new Promise((r) => setTimeout(r, 200));
  const wallMs = performance.now() - t;
  const cpuMs = cpuMsSince(cpu);
  const mainCpuAfter = mainThreadCpuMs();
  const threadsAfter = threadCpuMs();
  const mainCpuMs =
    mainCpuBefore !== undefined && mainCpuAfter !== undefined ? mainCpuAfter - mainCpuBefore : undefined;
  if (profiler) {
    const { profile } = await profiler.post("Profiler.stop");
    await writeFile(args[profileArg + 1]!, JSON.stringify(profile));
    profiler.disconnect();
  }

  const progress = await readRescanProgress(host.pipeline.tables, body.rescanId);
  const rate = (COUNT / wallMs) * 1000;
  const inProcessRate = (COUNT / inProcessMs) * 1000;
  console.log(
    `fleet: ${COUNT} stored inventories, ${(packages / COUNT).toFixed(0)} packages each on average ` +
      `(real package DBs under corpus/pkgdb, ${fleet.packages.length} distinct packages), ` +
      `DB of ${records.length - stats.skipped} advisories; seeding took ${(seedMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `full re-verdict through the local host: ${(wallMs / 1000).toFixed(1)} s (202 after ${answeredMs.toFixed(0)} ms, all queued after ${(queuedMs / 1000).toFixed(1)} s), ` +
      `${rate.toFixed(0)} images/s, CPU ${(cpuMs / 1000).toFixed(1)} s` +
      (mainCpuMs === undefined ? "" : ` (the event loop's thread ${(mainCpuMs / 1000).toFixed(1)} s)`) +
      `; verdicts landed ${progress?.counts.done}/${COUNT}, failed ${progress?.counts.failed}`,
  );
  console.log(
    `in one process without the bus: ${(inProcessMs / 1000).toFixed(1)} s (CPU ${(inProcessCpuMs / 1000).toFixed(1)} s), ${inProcessRate.toFixed(0)} images/s ` +
      `(${findings} findings); the stages run at ${(rate / inProcessRate).toFixed(2)}× of it`,
  );
  console.log(
    `projected for 10,000: ${(10_000 / rate).toFixed(0)} s through the stages (target < 60 s), ` +
      `${(10_000 / inProcessRate).toFixed(0)} s in one process`,
  );
  // where the CPU went by thread: the event loop, the verdict thread, the checkpointer, V8's GC helpers
  const byThread = [...threadsAfter]
    .map(([tid, { name, ms }]) => ({
      tid,
      name: tid === String(process.pid) ? "event loop" : name,
      ms: ms - (threadsBefore.get(tid)?.ms ?? 0),
    }))
    .filter((t) => t.ms >= 10)
    .sort((a, b) => b.ms - a.ms);
  if (byThread.length > 0)
    console.log(
      `CPU by thread (ms per image): ${byThread.map((t) => `${t.name} ${(t.ms / COUNT).toFixed(2)}`).join(", ")}`,
    );
  const total = [...busy.values()].reduce((s, e) => s + e.ms, 0);
  console.log(
    "where the stages' time goes (per image; `until settled` is summed over concurrent handlers and includes their interleaved work, `synchronous` is the call's own CPU for the SQLite stores; pipeline.match includes its DB blob reads):",
  );
  for (const [key, e] of [...busy.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
    console.log(
      `  ${key.padEnd(42)} ${(e.calls / COUNT).toFixed(1).padStart(7)} calls  until settled ${(e.ms / COUNT).toFixed(2).padStart(6)} ms ${((e.ms / total) * 100).toFixed(0).padStart(3)} %  synchronous ${(e.syncMs / COUNT).toFixed(2).padStart(6)} ms`,
    );
  // the host's own match and decide, one image at a time (nothing else in flight): their CPU per image
  // against the in-process loop's, so their share of the stages is not read off the interleaved times
  const sample = Math.min(COUNT, 500);
  const hostDeps = async () => {
    for (let i = 0; i < sample; i++) {
      const inventory = inventories[i]!;
      const { matches, db: stampNow } = await host.pipeline.match(inventory);
      await host.pipeline.decide(inventory, matches, stampNow);
    }
  };
  const loop = async () => {
    for (let i = 0; i < sample; i++) {
      const inventory = inventories[i]!;
      makeReport(inventory, await matchInventory(inventory.packages, db), stamp, { policy, now: new Date() });
    }
  };
  // alternated, the fastest of three each: the one run first would otherwise pay the other's warm-up
  let hostDepsCpuMs = Number.POSITIVE_INFINITY;
  let loopCpuMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    cpu = process.cpuUsage();
    await (round % 2 === 0 ? hostDeps() : loop());
    const first = cpuMsSince(cpu) / sample;
    cpu = process.cpuUsage();
    await (round % 2 === 0 ? loop() : hostDeps());
    const second = cpuMsSince(cpu) / sample;
    hostDepsCpuMs = Math.min(hostDepsCpuMs, round % 2 === 0 ? first : second);
    loopCpuMs = Math.min(loopCpuMs, round % 2 === 0 ? second : first);
  }
  console.log(
    `matching + policy alone, ${sample} images one at a time: the host's match + decide ${hostDepsCpuMs.toFixed(2)} ms CPU per image, ` +
      `the in-process loop ${loopCpuMs.toFixed(2)} ms; the stages' whole CPU is ${(cpuMs / COUNT).toFixed(2)} ms per image`,
  );

  // targeted: the fleet's rare package (1 % of the images, stored-fleet.ts) gets a new advisory
  const carriers = new Map<string, { ecosystem: string; name: string; images: number[] }>();
  inventories.forEach((inventory, i) => {
    for (const pkg of inventory.packages) {
      const { ecosystem, name } = advisoryCoordinates(pkg);
      const key = `${ecosystem}|${name}`;
      const entry = carriers.get(key) ?? { ecosystem, name, images: [] };
      carriers.set(key, entry);
      if (entry.images.at(-1) !== i) entry.images.push(i);
    }
  });
  const target = [...carriers.values()].sort((x, y) => x.images.length - y.images.length)[0]!;
  // the index as the verdict stage writes it after a push, for the carriers of the target package (one
  // partition per package: the rows of other packages do not change this lookup)
  await forEach(target.images.length, async (n) => {
    const i = target.images[n]!;
    const { digest, inventory } = fleet.image(i);
    const { registry, repository, platform } = inventory.image;
    const scanId = scanIdOf({ registry, repository, digest, platform });
    const carried = inventory.packages.filter((p) => {
      const c = advisoryCoordinates(p);
      return c.ecosystem === target.ecosystem && c.name === target.name;
    });
    await writePackageIndex(host.pipeline.tables, scanId, {
      image: { ...inventory.image, digest },
      packages: carried,
    } as unknown as Report);
  });
  const updated = await buildDbFromRecords(
    host.pipeline.blobs,
    [
      ...records,
      {
        schema_version: "1.6.0",
        id: "BENCH-TARGETED",
        modified: "2026-01-02T00:00:00Z",
        affected: [
          {
            package: { ecosystem: target.ecosystem, name: target.name },
            ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
          },
        ],
      },
    ],
    { now: new Date("2026-01-02T00:00:00Z") },
  );
  // the change set a feed delta adding this one advisory gives (db-update.ts); an import rebuilds whole
  const changes = {
    ...(await changeSetOf(host.pipeline.blobs, updated.metadata)),
    full: false,
    packages: [{ ecosystem: target.ecosystem, name: target.name }],
  };
  busy.clear();
  t = performance.now();
  const targeted = await rescanChangedImages(host.pipeline, changes);
  while ((await host.bus.depth("matching")) + (await host.bus.depth("verdict")) > 0)
    await new Promise((r) => setTimeout(r, 50));
  const targetedMs = performance.now() - t;
  const registryRequests = [...busy.entries()]
    .filter(([key]) => key.startsWith("registry."))
    .reduce((n, [, e]) => n + e.calls, 0);
  console.log(
    `targeted update (a new advisory for ${target.ecosystem}/${target.name}, in ${target.images.length} of ${COUNT} images, ` +
      `${((target.images.length / COUNT) * 100).toFixed(1)} %): ${changes.packages.length} package(s) changed, ` +
      `${targeted.queued} image(s) re-matched, last verdict after ${(targetedMs / 1000).toFixed(2)} s, ` +
      `registry requests ${registryRequests}; ${(targetedMs / wallMs).toFixed(3)}× of the full re-verdict's time`,
  );
} finally {
  await host.stop();
  await rm(dataDir, { recursive: true, force: true });
}
