import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import { readFindings } from "../../shared/stages/findings.js";
import { TABLES } from "../../shared/stages/tables.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import {
  callApi,
  hostNotifications,
  testHostOptions,
  waitForVerdict as waitForVerdictOf,
} from "./support/local-host-api.js";
import { writeTestDb } from "./test-db.js";

/**
 * End to end on the local host: the durable local store (SQLite tables, queues, blobs) + the HTTP routes, the real Distribution
 * registry notifying `/api/hooks/distribution`, skopeo pushing the real Debian test image.
 */
let image: DebianTestImage;
let host: LocalHost;
let registry: RegistryServer;
let dataDir: string;
const logs: string[] = [];

async function startHost(port = 0): Promise<LocalHost> {
  const started = await startLocalHost(testHostOptions(dataDir, logs, port));
  await writeTestDb(started.pipeline.blobs);
  return started;
}

beforeAll(async () => {
  image = await buildDebianTestImage();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-host-"));
  host = await startHost();
  registry = await startRegistry({ notifications: hostNotifications(host) });
});

afterAll(async () => {
  await registry?.stop();
  await host?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const api = (pathAndQuery: string, init?: RequestInit) => callApi(host, pathAndQuery, init);

/** Polls the gate until the verdict is in (not 404 "not yet notified", not 409 pending). */
const waitForVerdict = (ref: string, timeoutMs = 240_000) => waitForVerdictOf(host, ref, { timeoutMs, logs });

const blobGets = (digest: string) =>
  registry
    .logs()
    .split("\n")
    .filter((line) => line.includes(`GET /v2/`) && line.includes(`/blobs/${digest}`)).length;

const amd64 = () => image.platforms.find((p) => p.platform === "linux/amd64")!;

describe("local host end to end", () => {
  it("scans an index with two platforms: each platform manifest gets its verdict", async () => {
    await pushImage(image.ociIndexRef, `${registry.host}/team/multi:bookworm`, { all: true });
    const index = await waitForVerdict(`${registry.host}/team/multi@${image.indexDigest}`);
    expect(index.status).toBe(403);
    for (const platform of image.platforms) {
      const answer = await waitForVerdict(`${registry.host}/team/multi@${platform.manifestDigest}`);
      expect(answer.status, platform.platform).toBe(403);
    }
    // first on a cold cache: both platforms share every layer, and the layer lease lets one scan download each
    for (const layer of image.layers) expect(blobGets(layer.digest)).toBe(1);
    const listed = await api(`/api/images?repository=${encodeURIComponent(`${registry.host}/team/multi`)}`);
    expect((listed.body.images as unknown[]).length).toBe(2);
  });

  it("scans an image pushed with skopeo to a block verdict through the registry's notification", async () => {
    await pushImage(image.ociAmd64Ref, `${registry.host}/library/debian:bookworm`);
    const digest = amd64().manifestDigest;
    const ref = `${registry.host}/library/debian@${digest}`;
    const verdict = await waitForVerdict(ref);
    expect(verdict.status, JSON.stringify(verdict.body)).toBe(403);
    expect(JSON.stringify(verdict.body.reasons)).toContain("CVE-2099-0002");

    const report = await api(`/api/images/${registry.host}/library/debian/${digest}`);
    expect(report.status).toBe(200);
    const packages = report.body.packages as { name: string; version: string }[];
    expect(packages.find((p) => p.name === "jq")?.version).toBe(
      image.packages.find((p) => p.name === "jq")!.version,
    );
    expect(packages.length).toBe(image.packages.length);
    expect(report.body.verdict).toMatchObject({ decision: "block" });
    expect(report.body.image).toMatchObject({ digest, tags: ["bookworm"], os: { family: "debian" } });

    const row = await host.pipeline.tables.get(TABLES.images, `${registry.host}/library/debian`, digest);
    expect(row?.properties).toMatchObject({
      decision: "block",
      status: "done",
      packages: image.packages.length,
    });
    const findings = await readFindings(host.pipeline.tables, digest);
    expect(findings.map((f) => f.package).sort()).toEqual(["jq", "libjq1"]);
    for (const layer of image.layers) expect(blobGets(layer.digest)).toBe(1);
  });

  it("analyses the same image pushed under a second tag once, and records the tag", async () => {
    await pushImage(image.ociAmd64Ref, `${registry.host}/library/debian:stable`);
    const digest = amd64().manifestDigest;
    const deadline = Date.now() + 60_000;
    let tags: string[] = [];
    while (Date.now() < deadline) {
      const row = await host.pipeline.tables.get(TABLES.images, `${registry.host}/library/debian`, digest);
      tags = JSON.parse(String(row?.properties.tags ?? "[]")) as string[];
      if (tags.includes("stable")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(tags.sort()).toEqual(["bookworm", "stable"]);
    for (const layer of image.layers) expect(blobGets(layer.digest)).toBe(1);
  });

  it("fails a scan whose manifest is gone, with the reason, and drains the queues", async () => {
    const started = await api("/api/scans", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image: `${registry.host}/library/debian:deleted` }),
    });
    expect(started.status).toBe(202);
    const statusUrl = String(started.body.statusUrl);
    const deadline = Date.now() + 60_000;
    let status = await api(statusUrl);
    while (status.body.status !== "failed" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = await api(statusUrl);
    }
    expect(status.body).toMatchObject({ status: "failed", reason: expect.stringMatching(/not found/) });
    // the scan is marked failed before the poisoned message leaves its queue: give it a moment
    for (const queue of ["scan-requests", "layer-analysis", "matching", "verdict"]) {
      const until = Date.now() + 10_000;
      while ((await host.bus.depth(queue)) > 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect(await host.bus.depth(queue), queue).toBe(0);
    }
    expect(await host.bus.depth("scan-requests-poison")).toBeGreaterThanOrEqual(1);
  });

  it("refuses a notification without the hook token", async () => {
    const res = await api("/api/hooks/distribution", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });

  it("keeps its data and hook token across a restart", async () => {
    const { port, hookToken } = host;
    await host.stop();
    host = await startHost(port);
    expect(host.hookToken).toBe(hookToken);
    const answer = await waitForVerdict(`${registry.host}/library/debian@${amd64().manifestDigest}`, 10_000);
    expect(answer.status).toBe(403);
  });
});
