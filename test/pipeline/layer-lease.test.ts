import { afterEach, describe, expect, it } from "vitest";
import { ANALYZERS, analyzerSetVersion } from "../../shared/analysis/registry.js";
import { STAGE_HANDLERS } from "../../shared/stages/stage-queues.js";
import { dispatch } from "../../shared/http/router.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import type { ImageSource } from "../../shared/registry/image-source.js";
import {
  claimLayerLease,
  DEFAULT_LAYER_LEASE,
  ensureLayerReport,
  type LayerLeaseOptions,
} from "../../shared/stages/layer-lease.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { TABLES } from "../../shared/stages/tables.js";
import { debianLayer, fileLayer, REGISTRY } from "./fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./memory-pipeline.js";
import { bearer, distributionPush, request } from "./notifications.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEY = { digest: `sha256:${"a".repeat(64)}`, analyzerSet: "set-1" };
const FAST: LayerLeaseOptions = { leaseMs: 300, maxWaitMs: 10_000, pollMs: { min: 5, max: 50 } };

let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** Blob downloads that take a while, so that handlers of different scans overlap. */
function slowBlobs(deps: PipelineDeps, ms = 100): PipelineDeps {
  return {
    ...deps,
    openSource: async (ref: string): Promise<ImageSource> => {
      const source = await deps.openSource(ref);
      return {
        ...source,
        openBlob: async (layer) => {
          await sleep(ms);
          return source.openBlob(layer);
        },
      };
    },
  };
}

async function startSlow(options: Parameters<typeof memoryPipeline>[0] = {}): Promise<MemoryPipeline> {
  pipeline = await memoryPipeline(options);
  pipeline.start({ "layer-analysis": (msg, deps) => STAGE_HANDLERS["layer-analysis"](msg, slowBlobs(deps)) });
  return pipeline;
}

async function notify(p: MemoryPipeline, repository: string, digest: string) {
  const answer = await dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, repository, "v1", digest, `evt-${repository}`),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p.http,
  );
  expect(answer.status).toBe(202);
}

const gate = (p: MemoryPipeline, repository: string, digest: string) =>
  dispatch(request("GET", `/api/gate?image=${REGISTRY}/${repository}@${digest}`), p.http);

const opens = (p: MemoryPipeline, digest: string) => p.registry.opened.filter((d) => d === digest).length;

async function leaseRows(p: MemoryPipeline): Promise<number> {
  let n = 0;
  for await (const _ of p.tables.query(TABLES.layerLeases, {})) n++;
  return n;
}

describe("shared layers are analysed once across concurrent scans", () => {
  it("downloads a base layer shared by two images once, and both scans complete", async () => {
    const p = await startSlow();
    const base = await debianLayer({ demo: "1.0-1" });
    const [a] = p.registry.push("team/a", "v1", [{ layers: [base, await fileLayer("a")] }]);
    const [b] = p.registry.push("team/b", "v1", [{ layers: [base, await fileLayer("b")] }]);
    await Promise.all([notify(p, "team/a", a!.identity.digest), notify(p, "team/b", b!.identity.digest)]);
    await p.bus.idle();
    expect(opens(p, base.ref.digest)).toBe(1);
    expect(p.registry.opened).toHaveLength(3);
    expect((await gate(p, "team/a", a!.identity.digest)).status).toBe(403);
    expect((await gate(p, "team/b", b!.identity.digest)).status).toBe(403);
    expect(p.deliveries.matching).toBe(2);
    expect(await leaseRows(p)).toBe(0);
  });

  it("analyses the base layer of 20 images pushed at once a single time", async () => {
    const p = await startSlow();
    const base = await debianLayer({ demo: "1.0-1" });
    const images = [];
    for (let i = 0; i < 20; i++)
      images.push(
        p.registry.push(`fleet/app${i}`, "v1", [{ layers: [base, await fileLayer(`app${i}`)] }])[0]!,
      );
    await Promise.all(images.map((image, i) => notify(p, `fleet/app${i}`, image.identity.digest)));
    await p.bus.idle({ timeoutMs: 30_000 });
    expect(opens(p, base.ref.digest)).toBe(1);
    expect(p.registry.opened).toHaveLength(21);
    for (const [i, image] of images.entries())
      expect((await gate(p, `fleet/app${i}`, image.identity.digest)).status).toBe(403);
  });

  it("takes over the lease of a holder that died without a report, and the scan completes", async () => {
    const p = await startSlow();
    const base = await debianLayer({ demo: "1.0-1" });
    const [image] = p.registry.push("team/orphan", "v1", [{ layers: [base, await fileLayer("o")] }]);
    // a worker claimed the layer, then its process died: the row stays until it runs out
    const analyzerSet = analyzerSetVersion(p.deps.analyzers ?? ANALYZERS);
    await p.tables.insertIfAbsent(TABLES.layerLeases, base.ref.digest, analyzerSet, {
      holder: "crashed-worker",
      leasedUntil: new Date(Date.now() + 500).toISOString(),
    });
    await notify(p, "team/orphan", image!.identity.digest);
    await p.bus.idle();
    expect(opens(p, base.ref.digest)).toBe(1);
    expect((await gate(p, "team/orphan", image!.identity.digest)).status).toBe(403);
    expect(p.logs.some((l) => /lease of crashed-worker expired, taken over/.test(l))).toBe(true);
    expect(await leaseRows(p)).toBe(0);
  });

  it("takes its own lease back at once when redelivered after dying mid-download", async () => {
    pipeline = await memoryPipeline();
    const p = pipeline;
    const died = new Set<string>();
    p.start({
      "layer-analysis": async (msg, deps) => {
        if (died.has(msg.layer.digest)) return STAGE_HANDLERS["layer-analysis"](msg, deps);
        died.add(msg.layer.digest);
        // claims the lease as the stage would, then dies before downloading or releasing
        const key = {
          digest: msg.layer.digest,
          analyzerSet: analyzerSetVersion(deps.analyzers ?? ANALYZERS),
        };
        await claimLayerLease(key, msg.scanId, deps, DEFAULT_LAYER_LEASE.leaseMs);
        throw new Error("worker killed mid-download");
      },
    });
    const base = await debianLayer({ demo: "1.0-1" });
    const [image] = p.registry.push("team/self", "v1", [{ layers: [base, await fileLayer("s")] }]);
    await notify(p, "team/self", image!.identity.digest);
    // far shorter than the 60 s lease: the redelivery did not wait for it to run out
    await p.bus.idle({ timeoutMs: 10_000 });
    expect(p.registry.opened).toHaveLength(2);
    expect((await gate(p, "team/self", image!.identity.digest)).status).toBe(403);
    expect(p.logs.filter((l) => /our own dead delivery's, taken over/.test(l))).toHaveLength(2);
  });
});

describe("ensureLayerReport", () => {
  function fakeCache() {
    let stored = false;
    let analyses = 0;
    return {
      get analyses() {
        return analyses;
      },
      work: (options: { fail?: boolean; ms?: number } = {}) => ({
        isStored: async () => stored,
        analyze: async () => {
          analyses++;
          await sleep(options.ms ?? 50);
          if (options.fail) throw new Error("corrupt layer");
          stored = true;
        },
      }),
    };
  }
  const deps = (tables = new MemoryTableStore(), logs: string[] = []) => ({
    tables,
    now: () => new Date(),
    log: (m: string) => logs.push(m),
  });

  it("lets one of many concurrent handlers analyse; the others join", async () => {
    const cache = fakeCache();
    const d = deps();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ensureLayerReport(KEY, `scan-${i}`, cache.work(), d, FAST)),
    );
    expect(cache.analyses).toBe(1);
    expect(outcomes.filter((o) => o === "analyzed")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "joined")).toHaveLength(7);
    expect(await d.tables.get(TABLES.layerLeases, KEY.digest, KEY.analyzerSet)).toBeUndefined();
  });

  it("answers from the cache without touching the lease", async () => {
    const d = deps();
    const outcome = await ensureLayerReport(
      KEY,
      "scan-1",
      { isStored: async () => true, analyze: () => Promise.reject(new Error("not called")) },
      d,
      FAST,
    );
    expect(outcome).toBe("cached");
    expect(await d.tables.get(TABLES.layerLeases, KEY.digest, KEY.analyzerSet)).toBeUndefined();
  });

  it("lets exactly one of several waiters take over an expired lease", async () => {
    const cache = fakeCache();
    const logs: string[] = [];
    const d = deps(new MemoryTableStore(), logs);
    await d.tables.insertIfAbsent(TABLES.layerLeases, KEY.digest, KEY.analyzerSet, {
      holder: "crashed",
      leasedUntil: new Date(Date.now() + 100).toISOString(),
    });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) => ensureLayerReport(KEY, `scan-${i}`, cache.work(), d, FAST)),
    );
    expect(cache.analyses).toBe(1);
    expect(outcomes.filter((o) => o === "analyzed")).toHaveLength(1);
    expect(logs.filter((l) => l.includes("taken over"))).toHaveLength(1);
  });

  it("keeps a slow holder's lease alive by renewing it", async () => {
    const cache = fakeCache();
    const d = deps();
    // the holder works for several lease lengths; the waiter must not take over meanwhile
    const holder = ensureLayerReport(KEY, "slow", cache.work({ ms: 4 * FAST.leaseMs }), d, FAST);
    await sleep(20);
    const waiter = ensureLayerReport(KEY, "waiter", cache.work(), d, FAST);
    expect(await Promise.all([holder, waiter])).toEqual(["analyzed", "joined"]);
    expect(cache.analyses).toBe(1);
  });

  it("releases the lease when the analysis fails, so a waiter tries itself", async () => {
    const cache = fakeCache();
    const d = deps();
    const failing = ensureLayerReport(KEY, "first", cache.work({ fail: true }), d, FAST);
    await sleep(10);
    const waiter = ensureLayerReport(KEY, "second", cache.work(), d, FAST);
    await expect(failing).rejects.toThrow("corrupt layer");
    expect(await waiter).toBe("analyzed");
    expect(cache.analyses).toBe(2);
    expect(await d.tables.get(TABLES.layerLeases, KEY.digest, KEY.analyzerSet)).toBeUndefined();
  });

  it("gives up after maxWaitMs while a live holder keeps renewing, so the bus can retry", async () => {
    const d = deps();
    await d.tables.insertIfAbsent(TABLES.layerLeases, KEY.digest, KEY.analyzerSet, {
      holder: "stuck",
      leasedUntil: new Date(Date.now() + 60_000).toISOString(),
    });
    const outcome = ensureLayerReport(
      KEY,
      "waiter",
      { isStored: async () => false, analyze: async () => {} },
      d,
      { ...FAST, maxWaitMs: 200 },
    );
    await expect(outcome).rejects.toThrow(/still leased by another handler/);
  });
});
