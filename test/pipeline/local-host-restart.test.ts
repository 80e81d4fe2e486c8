import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SettingsSchema } from "../../shared/composition/settings.js";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { writeTestDb } from "./test-db.js";

let image: DebianTestImage;
let registry: RegistryServer;
let dataDir: string;
let host: LocalHost | undefined;

/** One layer at a time, so a stop mid-scan leaves layer messages queued in the local store. */
const start = async () => {
  const started = await startLocalHost({
    dataDir,
    port: 0,
    settings: SettingsSchema.parse({}),
    registry: { insecureRegistries: ["127.0.0.1"] },
    db: { offline: true },
    workers: { concurrency: { "scan-requests": 1, "layer-analysis": 1, matching: 1, verdict: 1 } },
    rescanIntervalMs: 0,
    dbRefreshIntervalMs: 0,
    log: () => {},
  });
  await writeTestDb(started.pipeline.blobs);
  return started;
};

beforeAll(async () => {
  image = await buildDebianTestImage();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-restart-"));
  registry = await startRegistry();
  await pushImage(image.ociAmd64Ref, `${registry.host}/library/debian:bookworm`);
});

afterAll(async () => {
  await host?.stop();
  await registry?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("finishes a scan after the local host is restarted mid-scan", async () => {
  host = await start();
  const res = await fetch(`${host.url}/api/scans`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ image: `${registry.host}/library/debian:bookworm` }),
  });
  const { statusUrl } = (await res.json()) as { statusUrl: string };
  // stop as soon as layer analysis has started: the other layers' messages are still queued
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await fetch(`${host.url}${statusUrl}`)).json()) as {
      children: { pendingLayers: number }[];
    };
    if ((status.children[0]?.pendingLayers ?? 0) > 0) break;
    if (Date.now() > deadline) throw new Error("the scan never started analysing");
    await new Promise((r) => setTimeout(r, 50));
  }
  await host.stop();
  host = await start();
  const ref = `${registry.host}/library/debian@${image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest}`;
  const until = Date.now() + 240_000;
  let gate: Response;
  for (;;) {
    gate = await fetch(`${host.url}/api/gate?image=${encodeURIComponent(ref)}`);
    if (gate.status !== 409 && gate.status !== 404) break;
    if (Date.now() > until) throw new Error("no verdict after the restart");
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(gate.status).toBe(403);
  const status = (await (await fetch(`${host.url}${statusUrl}`)).json()) as { status: string };
  expect(status.status).toBe("done");
});
