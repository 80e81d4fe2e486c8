// Issue 4's bench. (a) Push-to-verdict on the local host (its SQLite store, durable queues, the real
// Distribution registry notifying it) against the CLI's own `scan` of the same image, cold and warm,
// with the same DB (the pipeline suites' fixture OSV records). (b) 20 images sharing the Debian base
// layer pushed at once: time until every gate answers, and how many layer blobs were downloaded.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { main as runCli } from "../shared/cli/main.js";
import { SettingsSchema } from "../shared/composition/settings.js";
import { type LocalHost, startLocalHost } from "../shared/local/host.js";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import { writeTestDb } from "../test/pipeline/test-db.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { writeDockerConfig } from "../test/support/docker-config.js";
import { pushImage } from "../test/support/push-image.js";
import { type RegistryServer, startRegistry } from "../test/support/registry-server.js";
import { writeFleet } from "./support/fleet-images.js";

const FLEET_SIZE = 20;
const GATE_TIMEOUT_MS = 300_000;

interface Stack {
  host: LocalHost;
  registry: RegistryServer;
  /** repository → when the host accepted its first push notification (performance.now()) */
  notified: Map<string, number>;
  /** when the verdict stage logged the decision, by repository */
  verdicts: Map<string, number>;
  logs: string[];
  stop(): Promise<void>;
}

/** A fresh local host (its own data dir, so its layer cache is cold) and a registry notifying it. */
async function startStack(dataDir: string): Promise<Stack> {
  const notified = new Map<string, number>();
  const verdicts = new Map<string, number>();
  const logs: string[] = [];
  const host = await startLocalHost({
    dataDir,
    port: 0,
    settings: SettingsSchema.parse({}),
    registry: { insecureRegistries: ["127.0.0.1"] },
    db: { offline: true },
    rescanIntervalMs: 0,
    dbRefreshIntervalMs: 0,
    log: (message) => {
      logs.push(message);
      // intake logs each accepted push: the notification's arrival, give or take the intake itself
      const push = /^push \S+: [^/\s]+\/(\S+) → scan /.exec(message);
      if (push && !notified.has(push[1]!)) notified.set(push[1]!, performance.now());
      // the verdict stage logs each decision: when the gate could first have answered
      const decided = /^scan \S+: [^/\s]+\/(\S+)@sha256:\S+ → \w+$/.exec(message);
      if (decided && !verdicts.has(decided[1]!)) verdicts.set(decided[1]!, performance.now());
    },
  });
  let registry: RegistryServer;
  try {
    await writeTestDb(host.pipeline.blobs);
    registry = await startRegistry({
      notifications: [
        {
          url: `${host.url}/api/hooks/distribution`,
          bearerToken: host.hookToken,
          timeout: "5s",
          backoff: "500ms",
          ignoredMediaTypes: ["application/octet-stream"],
        },
      ],
    });
  } catch (err) {
    await host.stop();
    throw err;
  }
  return {
    host,
    registry,
    notified,
    verdicts,
    logs,
    async stop() {
      await registry.stop();
      await host.stop();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the gate until it answers neither 404 (not notified yet) nor 409 (pending); bounded. */
async function waitForGate(
  stack: Stack,
  ref: string,
  intervalMs: number,
  abort: { aborted: boolean },
): Promise<{ status: number; at: number }> {
  const deadline = performance.now() + GATE_TIMEOUT_MS;
  for (let i = 0; i < GATE_TIMEOUT_MS / intervalMs + 1 && !abort.aborted; i++) {
    const res = await fetch(`${stack.host.url}/api/gate?image=${encodeURIComponent(ref)}`);
    await res.arrayBuffer();
    if (res.status !== 404 && res.status !== 409) return { status: res.status, at: performance.now() };
    if (performance.now() > deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(
    `no verdict for ${ref}${abort.aborted ? " (aborted)" : ""}\n${stack.logs.slice(-10).join("\n")}`,
  );
}

/** Layer blob downloads the registry served so far, per digest. */
function blobGets(stack: Stack, digest: string): number {
  return stack.registry
    .logs()
    .split("\n")
    .filter((line) => line.includes("GET /v2/") && line.includes(`/blobs/${digest}`)).length;
}

interface PushRun {
  /** gate answered, seconds after the notification arrived */
  fromNotification: number;
  /** gate answered, seconds after skopeo finished (negative: before) */
  fromPushed: number;
  pushSeconds: number;
  status: number;
}

/** Pushes `source` to `repository:tag` while polling its gate from the start. */
async function pushToVerdict(
  stack: Stack,
  source: string,
  repository: string,
  digest: string,
): Promise<PushRun> {
  const abort = { aborted: false };
  const started = performance.now();
  // polled slowly: the gate runs in this process, and polling it every few ms takes CPU from the
  // scan being timed; the verdict's own log line gives the time, the gate confirms the answer
  const gate = waitForGate(stack, `${stack.registry.host}/${repository}@${digest}`, 200, abort);
  let pushed: number;
  try {
    await pushImage(source, `${stack.registry.host}/${repository}:v1`);
    pushed = performance.now();
  } catch (err) {
    abort.aborted = true;
    await gate.catch(() => undefined);
    throw err;
  }
  const answer = await gate;
  const notified = stack.notified.get(repository);
  if (notified === undefined) throw new Error(`no notification was logged for ${repository}`);
  const decidedAt = Math.min(answer.at, stack.verdicts.get(repository) ?? answer.at);
  return {
    fromNotification: (decidedAt - notified) / 1000,
    fromPushed: (decidedAt - pushed) / 1000,
    pushSeconds: (pushed - started) / 1000,
    status: answer.status,
  };
}

/** The CLI's `scan`, in this process (no Node start-up in the figure), into its own cache dir. */
async function cliScan(ref: string, stack: Stack, cacheDir: string, out: string): Promise<number> {
  const started = performance.now();
  const code = await runCli([
    "node",
    "portcullis",
    "scan",
    ref,
    "--insecure-registry",
    stack.registry.host,
    "--cache-dir",
    cacheDir,
    "--offline",
    "--format",
    "json",
    "--output",
    out,
  ]);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`portcullis scan exited ${code}`);
  const report = JSON.parse(await readFile(out, "utf8")) as { verdict?: { decision?: string } };
  if (report.verdict?.decision !== "block") throw new Error(`CLI verdict: ${report.verdict?.decision}`);
  return seconds;
}

const s = (seconds: number) => `${seconds.toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const image = await buildDebianTestImage();
const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-bench-push-"));
// an empty Docker config: the bench must not pick up the machine's credentials
const dockerConfig = await writeDockerConfig();
process.env.DOCKER_CONFIG = dockerConfig;
let stack: Stack | undefined;
try {
  // (a) one image, cold and warm, host against CLI
  stack = await startStack(path.join(work, "host-a"));
  const amd64 = image.platforms.find((p) => p.platform === "linux/amd64")!;
  const digest = amd64.manifestDigest;
  const layerBytes = image.layers.reduce((n, l) => n + l.size, 0);
  console.log(
    `image: Debian test image linux/amd64, ${image.layers.length} layers, ${(layerBytes / 1024 ** 2).toFixed(1)} MiB compressed, ${image.packages.length} packages`,
  );
  const downloads = () => image.layers.reduce((n, l) => n + blobGets(stack!, l.digest), 0);

  // one throwaway scan from the OCI layout first: both sides then run with the code loaded and
  // compiled, so the first measurement does not carry the process's warm-up
  const warmCache = path.join(work, "warm-up-cache");
  await writeTestDb(new FsBlobStore(warmCache));
  await cliScan(image.ociAmd64Ref, stack, warmCache, path.join(work, "warm-up.json"));

  const hostCold = await pushToVerdict(stack, image.ociAmd64Ref, "bench/debian", digest);
  const coldDownloads = downloads();
  const hostWarm = await pushToVerdict(stack, image.ociAmd64Ref, "bench/debian-warm", digest);
  const warmDownloads = downloads() - coldDownloads;

  const cliCache = path.join(work, "cli-cache");
  await writeTestDb(new FsBlobStore(cliCache));
  const ref = `${stack.registry.host}/bench/debian@${digest}`;
  const before = downloads();
  const cliCold = await cliScan(ref, stack, cliCache, path.join(work, "cli-cold.json"));
  const cliColdDownloads = downloads() - before;
  const cliWarm = await cliScan(ref, stack, cliCache, path.join(work, "cli-warm.json"));
  const cliWarmDownloads = downloads() - before - cliColdDownloads;

  const row = (name: string, run: PushRun, blobs: number) =>
    `  ${name} host: ${s(run.fromNotification)} notification → gate ${run.status}` +
    `  (${s(run.fromPushed)} after skopeo returned; push took ${s(run.pushSeconds)})  layer blobs downloaded ${blobs}`;
  console.log("(a) push-to-verdict on the local host vs `portcullis scan`, same image, same DB");
  console.log(row("cold", hostCold, coldDownloads));
  console.log(`  cold CLI : ${s(cliCold)}  layer blobs downloaded ${cliColdDownloads}`);
  console.log(row("warm", hostWarm, warmDownloads));
  console.log(`  warm CLI : ${s(cliWarm)}  layer blobs downloaded ${cliWarmDownloads}`);
  console.log(
    `  ratio host/CLI: cold ${ratio(hostCold.fromNotification, cliCold)}, warm ${ratio(hostWarm.fromNotification, cliWarm)}  (target ≤ 1.5×, timed from the notification's arrival)`,
  );
  await stack.stop();
  stack = undefined;

  // (b) a fleet on a fresh host: the shared base layer must be analysed once
  const fleet = await writeFleet(image, path.join(work, "fleet"), FLEET_SIZE);
  stack = await startStack(path.join(work, "host-b"));
  const fleetStack = stack;
  const abort = { aborted: false };
  const started = performance.now();
  const pushes = fleet.images.map((img, i) =>
    pushImage(img.source, `${fleetStack.registry.host}/fleet/app-${i}:v1`).then(
      () => performance.now(),
      (err: unknown) => {
        abort.aborted = true;
        throw err;
      },
    ),
  );
  const gates = fleet.images.map((img, i) =>
    waitForGate(fleetStack, `${fleetStack.registry.host}/fleet/app-${i}@${img.manifestDigest}`, 200, abort),
  );
  const [pushedAt, answers] = await Promise.all([Promise.all(pushes), Promise.all(gates)]).catch(
    async (err: unknown) => {
      abort.aborted = true;
      await Promise.allSettled([...pushes, ...gates]);
      throw err;
    },
  );
  const done = Math.max(...answers.map((a) => a.at));
  const firstNotified = Math.min(...fleetStack.notified.values());
  const elapsed = (done - started) / 1000;
  const topDownloads = fleet.images.reduce((n, img) => n + blobGets(fleetStack, img.topLayer), 0);
  const joins = fleetStack.logs.filter((l) => l.includes("analysed by another scan, joined")).length;
  const verdicts = new Map<number, number>();
  for (const a of answers) verdicts.set(a.status, (verdicts.get(a.status) ?? 0) + 1);
  console.log(`(b) ${FLEET_SIZE} images (Debian base layer + one unique top layer each) pushed at once`);
  console.log(
    `  all ${FLEET_SIZE} gates answered ${s(elapsed)} after the pushes began` +
      ` (${s((done - firstNotified) / 1000)} after the first notification; the last push returned at ${s((Math.max(...pushedAt) - started) / 1000)})`,
  );
  console.log(
    `  gate answers: ${[...verdicts].map(([status, n]) => `${n}× ${status}`).join(", ")}` +
      `  throughput ${((FLEET_SIZE / elapsed) * 60).toFixed(1)} images/minute`,
  );
  console.log(
    `  layer analyses: shared base layer downloaded ${blobGets(fleetStack, fleet.baseLayer)}×, unique top layers ${topDownloads}/${FLEET_SIZE}` +
      `; ${joins} layer handler(s) waited on another scan's lease and joined`,
  );
} finally {
  await stack?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(dockerConfig, { recursive: true, force: true });
}
