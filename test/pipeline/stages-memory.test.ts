import { afterEach, describe, expect, it } from "vitest";
import { enqueueRescans } from "../../shared/stages/jobs/scheduled-rescan.js";
import { STAGE_HANDLERS } from "../../shared/stages/stage-queues.js";
import { dispatch } from "../../shared/http/router.js";
import { ScanError } from "../../shared/model/errors.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { readFindings } from "../../shared/stages/findings.js";
import { readScan } from "../../shared/stages/scan-state.js";
import { blobKeys, TABLES } from "../../shared/stages/tables.js";
import { debianLayer, fileLayer, REGISTRY } from "./fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./memory-pipeline.js";
import { bearer, distributionPush, request } from "./notifications.js";

let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

async function setUp(options: Parameters<typeof memoryPipeline>[0] = {}): Promise<MemoryPipeline> {
  pipeline = await memoryPipeline(options);
  return pipeline;
}

/** A Debian image with the vulnerable `demo` package plus `extra` plain layers. */
async function pushDemo(p: MemoryPipeline, repository: string, tag: string, extra = 2) {
  const layers = [await debianLayer({ demo: "1.0-1", zlib1g: "1:1.2.13.dfsg-1" })];
  for (let i = 0; i < extra; i++) layers.push(await fileLayer(`${repository}-${i}`));
  const [image] = p.registry.push(repository, tag, [{ layers }]);
  return { image: image!, layers };
}

async function notify(p: MemoryPipeline, repository: string, tag: string, digest: string, eventId: string) {
  return dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, repository, tag, digest, eventId),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p.http,
  );
}

async function gateOf(p: MemoryPipeline, repository: string, digest: string) {
  return dispatch(request("GET", `/api/gate?image=${REGISTRY}/${repository}@${digest}`), p.http);
}

async function countRows(tables: TableStore, table: string, partitionKey?: string): Promise<number> {
  let n = 0;
  for await (const _ of tables.query(table, partitionKey ? { partitionKey } : {})) n++;
  return n;
}

describe("stages over MemoryBus and MemoryTableStore", () => {
  it("scans a pushed image to a block verdict with report, images, findings and package index", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/app", "v1");
    const accepted = await notify(p, "team/app", "v1", image.identity.digest, "evt-1");
    expect(accepted.status).toBe(202);
    await p.bus.idle();

    const gate = await gateOf(p, "team/app", image.identity.digest);
    expect(gate.status).toBe(403);
    expect(JSON.stringify(gate.body)).toContain("CVE-2099-0001");

    const report = await dispatch(
      request("GET", `/api/images/${REGISTRY}/team/app/${image.identity.digest}`),
      p.http,
    );
    expect(report.status).toBe(200);
    const parsed = JSON.parse((report.body as Buffer).toString()) as {
      findings: { id: string; aliases: string[] }[];
      verdict: { decision: string };
    };
    expect(parsed.verdict.decision).toBe("block");
    expect(parsed.findings.flatMap((f) => [f.id, ...f.aliases]).sort()).toEqual([
      "CVE-2099-0001",
      "PCTEST-2024-0001",
    ]);
    expect(await readFindings(p.tables, image.identity.digest)).toHaveLength(1);
    expect(await countRows(p.tables, TABLES.packageIndex, "Debian:12|demo")).toBe(1);
    expect(p.registry.opened.sort()).toEqual(layers.map((l) => l.ref.digest).sort());
    expect(p.deliveries.matching).toBe(1);

    const listed = await dispatch(
      request("GET", `/api/images?repository=${REGISTRY}/team/app&verdict=block`),
      p.http,
    );
    expect((listed.body as { images: unknown[] }).images).toHaveLength(1);
  });

  it("audits the image config in the pipeline as the CLI does: root, secrets, HEALTHCHECK", async () => {
    const p = await setUp();
    p.start();
    const layers = [await debianLayer({ zlib1g: "1:1.2.13.dfsg-1" })];
    const config = {
      os: "linux",
      config: { User: "0", Env: ["PATH=/usr/bin", "DB_PASSWORD=hunter2-not-for-print"] },
    };
    const [image] = p.registry.push("team/config", "v1", [{ layers, config }]);
    await notify(p, "team/config", "v1", image!.identity.digest, "evt-cfg");
    await p.bus.idle();
    const got = await dispatch(
      request("GET", `/api/images/${REGISTRY}/team/config/${image!.identity.digest}`),
      p.http,
    );
    const text = (got.body as Buffer).toString();
    const report = JSON.parse(text) as {
      misconfigurations: { id: string }[];
      warnings: { code: string }[];
    };
    expect(report.misconfigurations.map((m) => m.id).sort()).toEqual([
      "PCS-IMG-0001",
      "PCS-IMG-0002",
      "PCS-IMG-0003",
    ]);
    expect(report.warnings.map((w) => w.code)).not.toContain("image-config-not-audited");
    expect(text).not.toContain("hunter2-not-for-print");
  });

  it("says the config was not audited when its stored copy is gone before matching", async () => {
    const p = await setUp();
    p.start({
      matching: async (msg, deps) => {
        // the config blob lost between resolve and matching: the audit must say so, not pass clean
        const scan = await readScan(deps.tables, msg.scanId);
        if (scan?.state.configDigest) await deps.blobs.delete(blobKeys.config(scan.state.configDigest));
        return STAGE_HANDLERS.matching(msg, deps);
      },
    });
    const layers = [await debianLayer({ zlib1g: "1:1.2.13.dfsg-1" })];
    const [image] = p.registry.push("team/noconfig", "v1", [{ layers, config: { os: "linux" } }]);
    await notify(p, "team/noconfig", "v1", image!.identity.digest, "evt-nocfg");
    await p.bus.idle();
    const got = await dispatch(
      request("GET", `/api/images/${REGISTRY}/team/noconfig/${image!.identity.digest}`),
      p.http,
    );
    const report = JSON.parse((got.body as Buffer).toString()) as { warnings: { code: string }[] };
    expect(report.warnings.map((w) => w.code)).toContain("image-config-not-audited");
  });

  it("starts one scan when the same notification is delivered twice", async () => {
    const p = await setUp();
    p.start();
    const { image } = await pushDemo(p, "team/twice", "v1");
    await notify(p, "team/twice", "v1", image.identity.digest, "evt-same");
    const again = await notify(p, "team/twice", "v1", image.identity.digest, "evt-same");
    expect(again.body).toMatchObject({ accepted: [], duplicates: 1 });
    await p.bus.idle();
    expect(p.deliveries["scan-requests"]).toBe(1);
    expect(p.deliveries.matching).toBe(1);
  });

  it("analyses each layer once when a scan request arrives twice (past the duplicate window)", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/redeliver", "v1", 3);
    await notify(p, "team/redeliver", "v1", image.identity.digest, "evt-a");
    await p.bus.idle();
    // a redelivery after the window: same body, new message id, a fresh event id
    await notify(p, "team/redeliver", "v1", image.identity.digest, "evt-b");
    await p.bus.idle();
    expect(p.registry.opened).toHaveLength(layers.length);
    expect(p.deliveries.matching).toBe(1);
    expect((await gateOf(p, "team/redeliver", image.identity.digest)).status).toBe(403);
  });

  it("sends matching exactly once when a layer handler dies after storing its report, before the join", async () => {
    const p = await setUp();
    const killed = new Set<string>();
    p.start({
      "layer-analysis": async (msg, deps) => {
        if (killed.has(msg.layer.digest)) return STAGE_HANDLERS["layer-analysis"](msg, deps);
        killed.add(msg.layer.digest);
        // the join is the first conditional table write after the layer report is stored: die there
        const tables: TableStore = Object.create(deps.tables, {
          updateIfMatch: { value: () => Promise.reject(new Error("worker killed before acknowledging")) },
        });
        return STAGE_HANDLERS["layer-analysis"](msg, { ...deps, tables });
      },
    });
    const { image, layers } = await pushDemo(p, "team/killed", "v1", 3);
    await notify(p, "team/killed", "v1", image.identity.digest, "evt-k");
    await p.bus.idle();
    expect(killed.size).toBe(layers.length);
    expect(p.deliveries["layer-analysis"]).toBe(2 * layers.length);
    // the redelivery found the stored report: no layer was downloaded twice
    expect(p.registry.opened).toHaveLength(layers.length);
    expect(p.deliveries.matching).toBe(1);
    expect((await gateOf(p, "team/killed", image.identity.digest)).status).toBe(403);
  });

  it("sends matching once (same message id) when the joining handler dies after the join", async () => {
    const p = await setUp({ duplicateWindowSeconds: 600 });
    const sent: string[] = [];
    const killed = new Set<string>();
    p.start({
      "layer-analysis": async (msg, deps) => {
        const bus = Object.create(deps.bus, {
          send: {
            value: (queue: string, body: unknown, o: { messageId: string }) => {
              if (queue === "matching") sent.push(o.messageId);
              return deps.bus.send(queue, body, o);
            },
          },
        });
        await STAGE_HANDLERS["layer-analysis"](msg, { ...deps, bus });
        if (!killed.has(msg.layer.digest)) {
          killed.add(msg.layer.digest);
          throw new Error("worker killed before acknowledging");
        }
      },
    });
    const { image } = await pushDemo(p, "team/joined", "v1", 2);
    await notify(p, "team/joined", "v1", image.identity.digest, "evt-j");
    await p.bus.idle();
    // the joiner re-sends on its redelivery, under the same id; duplicate detection keeps one
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(new Set(sent).size).toBe(1);
    expect(p.deliveries.matching).toBe(1);
    expect((await gateOf(p, "team/joined", image.identity.digest)).status).toBe(403);
  });

  it("fires the join once with many layer handlers running at once", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/wide", "v1", 11);
    await notify(p, "team/wide", "v1", image.identity.digest, "evt-w");
    await p.bus.idle();
    expect(p.deliveries["layer-analysis"]).toBe(layers.length);
    expect(p.deliveries.matching).toBe(1);
    const rows = [];
    for await (const row of p.tables.query(TABLES.scans, {})) rows.push(row.properties);
    const platform = rows.find((r) => r.kind === "platform")!;
    expect(platform.status).toBe("done");
    expect(layers.map((l) => l.ref.digest)).toContain(platform.joinedBy);
  });

  it("scans both platforms of an index", async () => {
    const p = await setUp();
    p.start();
    const layers = [await debianLayer({ demo: "1.0-2" }), await fileLayer("shared")];
    const images = p.registry.push("team/multi", "v1", [
      { platform: { os: "linux", architecture: "amd64" }, layers },
      { platform: { os: "linux", architecture: "arm64", variant: "v8" }, layers },
    ]);
    const started = await dispatch(
      request("POST", "/api/scans", { body: { image: `${REGISTRY}/team/multi:v1`, platform: "all" } }),
      p.http,
    );
    expect(started.status).toBe(202);
    const { scanId, statusUrl } = started.body as { scanId: string; statusUrl: string };
    await p.bus.idle();
    const status = await dispatch(request("GET", statusUrl), p.http);
    expect(status.body).toMatchObject({ scanId, status: "done" });
    const children = (status.body as { children: { status: string; decision: string; digest: string }[] })
      .children;
    expect(children.map((c) => c.digest).sort()).toEqual(images.map((i) => i.identity.digest).sort());
    expect(children.every((c) => c.status === "done" && c.decision === "pass")).toBe(true);
    // both platform scans start at once and share these layers: the layer lease lets one download each
    expect(p.registry.opened.sort()).toEqual(layers.map((l) => l.ref.digest).sort());
  });

  it("answers the gate for an index's own digest when the scan was asked for by tag", async () => {
    const p = await setUp();
    p.start();
    const layers = [await debianLayer({ demo: "1.0-1" }), await fileLayer("tagged-index")];
    const images = p.registry.push("team/tagged", "v1", [
      { platform: { os: "linux", architecture: "amd64" }, layers },
      { platform: { os: "linux", architecture: "arm64", variant: "v8" }, layers },
    ]);
    const index = images[0]!.indexDigest!;
    expect((await gateOf(p, "team/tagged", index)).status).toBe(404);
    const started = await dispatch(
      request("POST", "/api/scans", { body: { image: `${REGISTRY}/team/tagged:v1` } }),
      p.http,
    );
    expect(started.status).toBe(202);
    await p.bus.idle();
    // a CD pipeline deploys by the index digest it resolved, not by the tag it asked about
    const gate = await gateOf(p, "team/tagged", index);
    expect(gate.status).toBe(403);
    expect((gate.body as { images: unknown[] }).images).toHaveLength(2);
  });

  it("analyses an image pushed under two tags once and records both tags", async () => {
    const p = await setUp({ duplicateWindowSeconds: 600 });
    p.start();
    const { image, layers } = await pushDemo(p, "team/tags", "v1");
    p.registry.push("team/tags", "latest", [{ layers }]);
    await notify(p, "team/tags", "v1", image.identity.digest, "evt-t1");
    await notify(p, "team/tags", "latest", image.identity.digest, "evt-t2");
    await p.bus.idle();
    expect(p.registry.opened).toHaveLength(layers.length);
    const row = await p.tables.get(TABLES.images, `${REGISTRY}/team/tags`, image.identity.digest);
    expect(JSON.parse(String(row?.properties.tags)).sort()).toEqual(["latest", "v1"]);
  });

  it("re-matches stored inventories on the rescan timer without pulling again", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/rescan", "v1");
    await notify(p, "team/rescan", "v1", image.identity.digest, "evt-r");
    await p.bus.idle();
    const sent = await enqueueRescans(p.deps, { olderThanHours: 0, runId: "test" });
    expect(sent).toBe(1);
    await p.bus.idle();
    expect(p.deliveries.matching).toBe(2);
    expect(p.registry.opened).toHaveLength(layers.length);
    expect((await gateOf(p, "team/rescan", image.identity.digest)).status).toBe(403);
  });
});

describe("failures end the scan with a reason and drain the queues", () => {
  async function failedPlatformScan(p: MemoryPipeline, repository: string, digest: string) {
    const gate = await gateOf(p, repository, digest);
    expect(gate.status).toBe(403);
    const found = [];
    for await (const row of p.tables.query(TABLES.scans, {})) found.push(row.rowKey && row.partitionKey);
    const scans = await Promise.all(found.map((id) => readScan(p.tables, id)));
    return { gate, scans: scans.map((s) => s!.state) };
  }

  it("fails the scan when the manifest is gone before resolution", async () => {
    const p = await setUp();
    p.start();
    const digest = `sha256:${"0".repeat(64)}`;
    await notify(p, "team/gone", "v1", digest, "evt-g");
    await p.bus.idle();
    const { gate } = await failedPlatformScan(p, "team/gone", digest);
    expect(JSON.stringify(gate.body)).toMatch(/scan failed: .*not found/);
    expect(p.bus.peek("scan-requests-poison")).toHaveLength(1);
  });

  it("fails the scan when a layer blob is deleted before analysis", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/deleted", "v1");
    const doomed = layers[1]!.ref.digest;
    p.registry.fault = ({ kind, digest }) =>
      kind === "blob" && digest === doomed
        ? new ScanError("not-found", `blob ${doomed}: not found (404)`)
        : undefined;
    await notify(p, "team/deleted", "v1", image.identity.digest, "evt-d");
    await p.bus.idle();
    const { scans } = await failedPlatformScan(p, "team/deleted", image.identity.digest);
    const platform = scans.find((s) => s.kind === "platform")!;
    expect(platform).toMatchObject({ status: "failed" });
    expect(platform.reason).toMatch(/not found \(404\)/);
    expect(p.deliveries.matching).toBe(0);
  });

  it("fails the scan on a corrupt layer", async () => {
    const p = await setUp();
    p.start();
    const { image, layers } = await pushDemo(p, "team/corrupt", "v1");
    p.registry.corrupt(layers[0]!.ref, Buffer.from("this is not a gzip stream at all"));
    await notify(p, "team/corrupt", "v1", image.identity.digest, "evt-c");
    await p.bus.idle();
    const { scans } = await failedPlatformScan(p, "team/corrupt", image.identity.digest);
    const platform = scans.find((s) => s.kind === "platform")!;
    expect(platform.status).toBe("failed");
    expect(platform.reason).toBeTruthy();
  });

  it("retries a registry answering 500, then fails the scan after the last delivery", async () => {
    const p = await setUp({ maxDeliveries: 3 });
    p.start();
    const { image } = await pushDemo(p, "team/flaky", "v1");
    p.registry.fault = ({ kind }) =>
      kind === "blob"
        ? new ScanError("registry-error", "blob: registry answered 500 after retries", { permanent: false })
        : undefined;
    await notify(p, "team/flaky", "v1", image.identity.digest, "evt-f");
    await p.bus.idle({ timeoutMs: 20_000 });
    const { scans } = await failedPlatformScan(p, "team/flaky", image.identity.digest);
    const platform = scans.find((s) => s.kind === "platform")!;
    expect(platform.reason).toMatch(/failed 3 times, last: .*500/);
    expect(p.bus.peek("layer-analysis-poison").length).toBeGreaterThanOrEqual(1);
  });

  it("finishes a failed scan asked for again within the bus's duplicate window", async () => {
    const p = await setUp({ duplicateWindowSeconds: 600 });
    p.start();
    const { image, layers } = await pushDemo(p, "team/retry", "v1");
    const doomed = layers[1]!.ref.digest;
    p.registry.fault = ({ kind, digest }) =>
      kind === "blob" && digest === doomed
        ? new ScanError("not-found", `blob ${doomed}: not found (404)`)
        : undefined;
    await notify(p, "team/retry", "v1", image.identity.digest, "evt-retry");
    await p.bus.idle();
    await failedPlatformScan(p, "team/retry", image.identity.digest);

    // the registry is healthy again; CI asks for the digest once more, minutes later
    p.registry.fault = undefined;
    const again = await dispatch(
      request("POST", "/api/scans", { body: { image: `${REGISTRY}/team/retry@${image.identity.digest}` } }),
      p.http,
    );
    expect(again.status).toBe(202);
    await p.bus.idle();
    const gate = await gateOf(p, "team/retry", image.identity.digest);
    expect(gate.status).toBe(403);
    expect(gate.body).toMatchObject({ decision: "block", images: [{ status: "done", decision: "block" }] });
  });
});
