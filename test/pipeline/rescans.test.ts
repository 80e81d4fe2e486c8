import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFleet, type FleetImage } from "../../bench/support/fleet-images.js";
import { SettingsSchema } from "../../shared/composition/settings.js";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import { imagePartition, readScannedImage, type ScannedImage } from "../../shared/stages/scanned-images.js";
import { TABLES } from "../../shared/stages/tables.js";
import { runCli } from "../support/cli.js";
import { buildDebianTestImage } from "../support/debian-image.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { callApi, hostNotifications, testHostOptions, waitForVerdict } from "./support/local-host-api.js";
import { writeTestDb } from "./test-db.js";

/**
 * Rescans on the local host with the real Distribution registry: the still-in-use sweep (one HEAD
 * per tag, gate queries, stale marks) and historical rescans (`POST /api/rescans`, the CLI), from
 * stored inventories only — no layer is pulled again.
 */
const DAY = 86_400_000;
let host: LocalHost;
let registry: RegistryServer;
let dataDir: string;
let fleet: FleetImage[];
const logs: string[] = [];
/** the host's clock: moved forward to make verdicts old and gate queries fall out of the window */
let clockOffsetMs = 0;

beforeAll(async () => {
  const debian = await buildDebianTestImage();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-rescans-"));
  fleet = (await writeFleet(debian, path.join(dataDir, "fleet"), 8)).images;
  host = await startLocalHost({
    ...testHostOptions(dataDir, logs),
    settings: SettingsSchema.parse({
      PORTCULLIS_RESCAN_AFTER_HOURS: "1",
      PORTCULLIS_RESCAN_GATE_WINDOW_HOURS: "24",
      PORTCULLIS_RESCAN_BATCH_SIZE: "2",
    }),
    now: () => new Date(Date.now() + clockOffsetMs),
  });
  await writeTestDb(host.pipeline.blobs);
  registry = await startRegistry({ notifications: hostNotifications(host) });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await host?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const api = (pathAndQuery: string, init?: RequestInit) => callApi(host, pathAndQuery, init);
const ref = (repository: string, image: FleetImage) =>
  `${registry.host}/${repository}@${image.manifestDigest}`;
const row = async (repository: string, image: FleetImage): Promise<ScannedImage> => {
  const found = await readScannedImage(
    host.pipeline.tables,
    imagePartition(registry.host, repository),
    image.manifestDigest,
  );
  if (!found) throw new Error(`no images row for ${repository}@${image.manifestDigest}`);
  return found;
};

/** Pushes and waits for the verdict through the images table (the gate would record a query). */
async function pushAndWait(image: FleetImage, repository: string, tag: string): Promise<void> {
  await pushImage(image.source, `${registry.host}/${repository}:${tag}`);
  const deadline = Date.now() + 240_000;
  for (;;) {
    const found = await readScannedImage(
      host.pipeline.tables,
      imagePartition(registry.host, repository),
      image.manifestDigest,
    );
    if (found?.tags.includes(tag)) return;
    if (Date.now() > deadline)
      throw new Error(`no verdict for ${repository}:${tag}\n${logs.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const requestLines = (pattern: RegExp) =>
  registry
    .logs()
    .split("\n")
    .filter((line) => pattern.test(line));

async function rescanProgress(rescanId: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await api(`/api/rescans/${rescanId}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    if (answer.body.finished === true) return answer.body;
    if (Date.now() > deadline)
      throw new Error(`rescan ${rescanId} unfinished: ${JSON.stringify(answer.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type ImageProgress = {
  digest: string;
  repository: string;
  state: string;
  reason?: string;
  decision?: string;
};
const progressOf = (body: Record<string, unknown>, repository: string, image: FleetImage) =>
  (body.images as ImageProgress[]).find(
    (i) => i.repository === repository && i.digest === image.manifestDigest,
  );

describe("the still-in-use sweep", () => {
  it("re-matches tagged and gate-queried images, marks an image whose tags are gone stale, and pulls nothing", async () => {
    const [live, moved, current, queried, queriedSuccessor] = fleet as [
      FleetImage,
      FleetImage,
      FleetImage,
      FleetImage,
      FleetImage,
    ];
    await pushAndWait(live, "sweep/app", "live");
    await pushAndWait(moved, "sweep/app", "gone");
    await pushAndWait(current, "sweep/app", "gone"); // the tag moves on: `moved` is left without one
    await pushAndWait(queried, "sweep/queried", "v1");
    await pushAndWait(queriedSuccessor, "sweep/queried", "v1");

    // two days on: every verdict is due; only a gate query made now is within the 24 h window
    clockOffsetMs = 2 * DAY;
    expect((await waitForVerdict(host, ref("sweep/queried", queried))).status).toBe(200);
    const before = await Promise.all(
      [live, moved, current, queried, queriedSuccessor].map((i, n) =>
        row(n < 3 ? "sweep/app" : "sweep/queried", i),
      ),
    );
    const blobGetsBefore = requestLines(/GET \/v2\/sweep\/[^ ]*\/blobs\//).length;
    const headsBefore = requestLines(/HEAD \/v2\/sweep\//).length;

    const result = await host.rescanNow();
    expect(result).toMatchObject({ queued: 4, stale: 1, failed: 0, tagLookups: 3 });
    const progress = await rescanProgress(result.rescanId);
    expect(progress.counts).toEqual({ queued: 0, done: 4, failed: 0, stale: 1 });
    expect(progressOf(progress, "sweep/app", moved)).toMatchObject({
      state: "stale",
      reason: expect.stringMatching(/no tag points at it/),
    });
    // the fleet's images carry no vulnerable package: each verdict is "pass" again
    for (const [image, repository] of [
      [live, "sweep/app"],
      [current, "sweep/app"],
      [queried, "sweep/queried"],
      [queriedSuccessor, "sweep/queried"],
    ] as const)
      expect(progressOf(progress, repository, image), repository).toMatchObject({
        state: "done",
        decision: "pass",
      });

    // the stale image kept its verdict and was not re-matched; the others have a new verdict
    const movedRow = await row("sweep/app", moved);
    expect(movedRow.staleSince).toBeDefined();
    expect(movedRow.scannedAt).toBe(before[1]!.scannedAt);
    expect((await row("sweep/app", live)).scannedAt > before[0]!.scannedAt).toBe(true);
    expect((await row("sweep/queried", queried)).staleSince).toBeUndefined();
    expect((await row("sweep/queried", queried)).scannedAt > before[3]!.scannedAt).toBe(true);

    // one HEAD per repository:tag, never a blob
    expect(requestLines(/GET \/v2\/sweep\/[^ ]*\/blobs\//).length).toBe(blobGetsBefore);
    expect(requestLines(/HEAD \/v2\/sweep\//).length - headsBefore).toBe(3);
    const listed = await api(`/api/images?repository=${encodeURIComponent(`${registry.host}/sweep/app`)}`);
    const staleListed = (listed.body.images as { digest: string; staleSince?: string }[]).filter(
      (i) => i.staleSince,
    );
    expect(staleListed.map((i) => i.digest)).toEqual([moved.manifestDigest]);
    clockOffsetMs = 0;
  }, 400_000);
});

describe("historical rescans", () => {
  it("re-matches every digest of a repository through the CLI, the gate answering the previous verdict meanwhile", async () => {
    const images = fleet.slice(5, 8);
    for (const [n, image] of images.entries()) await pushAndWait(image, "hist/app", `r${n}`);
    const before = await Promise.all(images.map((i) => row("hist/app", i)));
    const blobGetsBefore = requestLines(/\/blobs\//).length;

    const cli = runCli(["rescan", "--repository", `${registry.host}/hist/app`, "--server", host.url], {
      env: { PORTCULLIS_HOOK_TOKEN: host.hookToken },
      timeoutMs: 180_000,
    });
    let finished = false;
    const gateAnswers: number[] = [];
    void cli.then(() => {
      finished = true;
    });
    while (!finished) {
      for (const image of images)
        gateAnswers.push((await api(`/api/gate?image=${encodeURIComponent(ref("hist/app", image))}`)).status);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { code, stdout, stderr } = await cli;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/3 image\(s\) queued/);
    expect(stderr).toMatch(/3 verdict\(s\) landed, 0 failed, 0 queued/);
    for (const image of images) expect(stdout).toContain(`${image.manifestDigest}\tdone\tpass`);
    // never "pending" while the rescan ran: the previous verdict (allow) stood until the new one landed
    expect(gateAnswers.length).toBeGreaterThan(0);
    expect(new Set(gateAnswers)).toEqual(new Set([200]));
    for (const [n, image] of images.entries())
      expect((await row("hist/app", image)).scannedAt > before[n]!.scannedAt).toBe(true);
    expect(requestLines(/\/blobs\//).length).toBe(blobGetsBefore);
  }, 400_000);

  it("fails the rescan of an image whose stored inventory is corrupt or missing, for that image alone", async () => {
    const [intact, corrupt, missing] = fleet.slice(5, 8) as [FleetImage, FleetImage, FleetImage];
    const blobs = host.pipeline.blobs;
    await blobs.put((await row("hist/app", corrupt)).inventoryKey, '{"image": {"ref": "truncat');
    await blobs.delete((await row("hist/app", missing)).inventoryKey);
    const before = await row("hist/app", corrupt);

    const started = await api("/api/rescans", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${host.hookToken}` },
      body: JSON.stringify({ repository: `${registry.host}/hist/app` }),
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const progress = await rescanProgress(String(started.body.rescanId));
    expect(progress.counts).toMatchObject({ done: 1, failed: 2, queued: 0 });
    expect(progressOf(progress, "hist/app", intact)).toMatchObject({ state: "done" });
    expect(progressOf(progress, "hist/app", corrupt)?.reason).toMatch(/stored inventory .* is corrupt/);
    expect(progressOf(progress, "hist/app", missing)?.reason).toMatch(/stored inventory .* is missing/);
    // the failed images keep their previous verdict: not "scan failed", not re-verdicted
    for (const image of [corrupt, missing]) {
      const gate = await api(`/api/gate?image=${encodeURIComponent(ref("hist/app", image))}`);
      expect(gate.body).toMatchObject({ decision: "allow" });
      expect(JSON.stringify(gate.body.reasons)).not.toMatch(/scan failed/);
    }
    expect((await row("hist/app", corrupt)).scannedAt).toBe(before.scannedAt);
  }, 300_000);

  it("refuses a malformed request with the reason", async () => {
    const bad = await api("/api/rescans", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${host.hookToken}` },
      body: JSON.stringify({ repository: "no-registry", since: "yesterday-ish" }),
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/registry\/repository/);
    expect((await api("/api/rescans/nope")).status).toBe(404);
  });

  it("a rescan racing a fresh push of the same digest ends with one images row, tagged by both", async () => {
    const image = fleet[4]!;
    await pushAndWait(image, "race/app", "v1");
    const [started] = await Promise.all([
      api("/api/rescans", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${host.hookToken}` },
        body: JSON.stringify({ repository: `${registry.host}/race/app` }),
      }),
      pushImage(image.source, `${registry.host}/race/app:v2`),
    ]);
    expect(started.status).toBe(202);
    const progress = await rescanProgress(String(started.body.rescanId));
    expect(progress.counts).toMatchObject({ done: 1, failed: 0 });
    const deadline = Date.now() + 60_000;
    while (!(await row("race/app", image)).tags.includes("v2") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));

    const rows = [];
    for await (const r of host.pipeline.tables.query(TABLES.images, {
      partitionKey: imagePartition(registry.host, "race/app"),
    }))
      rows.push(r.properties);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ digest: image.manifestDigest, decision: "pass", status: "done" });
    expect(JSON.parse(String(rows[0]!.tags)).sort()).toEqual(["v1", "v2"]);
    const gate = await waitForVerdict(host, ref("race/app", image));
    expect(gate.status).toBe(200);
  }, 300_000);
});
