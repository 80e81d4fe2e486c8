import { afterEach, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import type { TrackingMessage } from "../../shared/model/messages.js";
import type { TrackingSetup } from "../../shared/tracking/tracking-setup.js";
import { refreshDbAndRescan, rescanChangedImages } from "../../shared/stages/jobs/db-refresh.js";
import { freePort } from "../support/free-port.js";
import { updateScan } from "../../shared/stages/scan-state.js";
import { imagePartition, queryScannedImages } from "../../shared/stages/scanned-images.js";
import { readRescanFailure } from "../../shared/stages/verdict-history.js";
import type { DbChangeSet } from "../../shared/vulndb/db-changes.js";
import { debianLayer, fileLayer, REGISTRY } from "./fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./memory-pipeline.js";
import { bearer, distributionPush, request } from "./notifications.js";

/** Targeted rescans over the in-memory pipeline: who is queued, who is named for a re-pull, who fails. */
let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

async function scanned(repository: string, packages: Record<string, string>) {
  const p = pipeline!;
  const layers = [await debianLayer(packages), await fileLayer(repository)];
  const [image] = p.registry.push(repository, "v1", [{ layers }]);
  const res = await dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, repository, "v1", image!.identity.digest, `evt-${repository}`),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p.http,
  );
  expect(res.status).toBe(202);
  await p.bus.idle();
  return image!.identity.digest;
}

const changes = (packages: { ecosystem: string; name: string }[]): DbChangeSet => ({
  version: "v-next",
  since: "v-prev",
  full: false,
  packages,
  changedCves: [],
});

async function rowOf(repository: string) {
  for await (const row of queryScannedImages(pipeline!.tables, {
    repository: imagePartition(REGISTRY, repository),
  }))
    return row;
  throw new Error(`no images row for ${repository}`);
}

describe("targeted rescans (memory pipeline)", () => {
  it("queues an image once however many of its packages changed, and only images holding one", async () => {
    pipeline = await memoryPipeline();
    pipeline.start();
    await scanned("team/both", { demo: "1.0-1", zlib1g: "1:1.2.13.dfsg-1" });
    await scanned("team/other", { curl: "7.88.1-10" });
    const matchingBefore = pipeline.deliveries.matching;
    const opened = pipeline.registry.opened.length;
    const out = await rescanChangedImages(
      pipeline.deps,
      changes([
        { ecosystem: "Debian:12", name: "demo" },
        { ecosystem: "Debian:12", name: "zlib" },
      ]),
    );
    expect(out).toMatchObject({ queued: 1, needRepull: [], notQueued: [] });
    await pipeline.bus.idle();
    expect(pipeline.deliveries.matching - matchingBefore).toBe(1);
    expect(pipeline.registry.opened.length).toBe(opened);
  });

  it("passes the verdict's cause and diff on to tracking", async () => {
    pipeline = await memoryPipeline();
    const tracked: TrackingMessage[] = [];
    // tracking on, its stage replaced by a recorder: what the verdict stage sends is what is checked
    pipeline.deps.tracking = {} as TrackingSetup;
    pipeline.start({
      tracking: async (msg) => {
        tracked.push(msg);
      },
    });
    await scanned("team/tracked", { demo: "1.0-1" });
    expect(tracked.at(-1)?.verdictRecord).toMatchObject({ cause: "push" });
    expect(tracked.at(-1)?.verdictRecord).not.toHaveProperty("diff");
    await rescanChangedImages(pipeline.deps, changes([{ ecosystem: "Debian:12", name: "demo" }]));
    await pipeline.bus.idle();
    expect(tracked.at(-1)?.verdictRecord).toMatchObject({
      cause: "db-update",
      previous: { cause: "push" },
      diff: { new: [], fixed: [], unchanged: 1 },
    });
  });

  it("names an image analysed by other analyzer versions as needing a re-pull, and still re-matches it", async () => {
    pipeline = await memoryPipeline();
    pipeline.start();
    await scanned("team/old", { demo: "1.0-1" });
    const row = await rowOf("team/old");
    await updateScan(
      pipeline.tables,
      row.scanId,
      (s) => ({ ...s, analyzerSet: "older-analyzers" }),
      () => new Date(),
    );
    const out = await rescanChangedImages(pipeline.deps, changes([{ ecosystem: "Debian:12", name: "demo" }]));
    expect(out.queued).toBe(1);
    expect(out.needRepull).toEqual([`${REGISTRY}/team/old@${row.digest}`]);
    expect(pipeline.logs.join("\n")).toMatch(/analysed by other analyzer versions; a new scan \(re-pull\)/);
  });

  it("fails the rescan of an image whose inventory and layer reports are gone, with the reason", async () => {
    pipeline = await memoryPipeline();
    pipeline.start();
    const digest = await scanned("team/lost", { demo: "1.0-1" });
    const row = await rowOf("team/lost");
    await pipeline.blobs.delete(row.inventoryKey);
    for await (const key of pipeline.blobs.list("layers/")) await pipeline.blobs.delete(key);
    const opened = pipeline.registry.opened.length;
    const out = await rescanChangedImages(pipeline.deps, changes([{ ecosystem: "Debian:12", name: "demo" }]));
    expect(out.queued).toBe(1);
    await pipeline.bus.idle();
    const failure = await readRescanFailure(pipeline.blobs, {
      registry: REGISTRY,
      repository: "team/lost",
      digest,
    });
    expect(failure).toMatchObject({
      cause: "db-update",
      reason: expect.stringMatching(/stored inventory .* is missing/),
    });
    expect(pipeline.registry.opened.length).toBe(opened);
  });

  it("queues nothing for a change set that changes nothing", async () => {
    pipeline = await memoryPipeline();
    pipeline.start();
    await scanned("team/quiet", { demo: "1.0-1" });
    const out = await rescanChangedImages(pipeline.deps, changes([]));
    expect(out.queued).toBe(0);
  });

  it("answers 502 with the feed's failure when the update fails, and 503 on a host without a refresh", async () => {
    pipeline = await memoryPipeline();
    const post = () =>
      dispatch(request("POST", "/api/db/refresh", { headers: bearer(HOOK_TOKEN) }), pipeline!.http);
    expect((await post()).status).toBe(503);
    const port = await freePort();
    pipeline.http.dbRefresh = () =>
      refreshDbAndRescan(pipeline!.deps, pipeline!.blobs, {
        baseUrl: `http://127.0.0.1:${port}`,
        ecosystems: ["Debian"],
      });
    const res = await post();
    expect(res.status).toBe(502);
    expect(JSON.stringify(res.body)).toMatch(
      /DB update failed \(the previous DB stays current\): .*127\.0\.0\.1/,
    );
  });
});
