import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KILL_AT_VARIABLE } from "../../shared/local/kill-points.js";
import { LOCAL_STORE_FILE, openLocalStore } from "../../shared/local/sqlite-database.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { scanIdOf } from "../../shared/model/messages.js";
import { distributionPush } from "../pipeline/notifications.js";
import { writeTestDb } from "../pipeline/test-db.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { FakeGitHub } from "../support/fake-github.js";
import { freePort } from "../support/free-port.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { seededRandom } from "../support/seeded-random.js";
import { killHard, type ServeChild, startServeChild } from "./support/serve-child.js";

/**
 * Crash anywhere: pushes to a real Distribution registry that notifies `portcullis serve` (GitHub
 * tracking on, against the fake GitHub), while serve is SIGKILLed and restarted on the same data dir
 * and port. First it kills itself at each test-only kill point in turn (shared/local/kill-points.ts:
 * every point of intake and of each stage, at the exact instant), then the test kills it at seeded
 * random instants. The registry retries a notification until it is answered, and never after a
 * 2xx: a push is lost only if serve loses it. Pushes and random kills can be raised for a soak
 * (PORTCULLIS_CRASH_*; `npm run soak:crash`).
 */
const SEED = Number(process.env.PORTCULLIS_CRASH_SEED ?? 9);
const PUSHES = Number(process.env.PORTCULLIS_CRASH_PUSHES ?? 20);
/** kills at random instants, after the kill points (the first lands right after a 202) */
const RANDOM_KILLS = Number(process.env.PORTCULLIS_CRASH_KILLS ?? 2);
/**
 * Every kill point, in the order a push meets them, so the scan a kill interrupts goes on to reach
 * the next one. Intake's writes: 1 the event's claim, 2 the digest window, 3 the scan row, 4 "sent".
 * Tracking's: 1 the ledger's intent, 2 the GitHub issue (answered, not yet in the ledger).
 * Tracking sends nothing but its own retries, so it has no `sent`.
 */
const KILL_PLAN = [
  "intake:wrote@1",
  "intake:wrote@2",
  "intake:wrote@3",
  "intake:sent",
  "intake:wrote@4",
  ...["scan-requests", "layer-analysis", "matching", "verdict"].flatMap((stage) =>
    ["received", "wrote", "sent", "handled"].map((point) => `${stage}:${point}`),
  ),
  "tracking:received",
  "tracking:wrote@1",
  "tracking:wrote@2",
  "tracking:handled",
];
/** pushed at once at the start (they share one layer analysis); then one after each restart */
const FIRST_PUSHES = 3;

let image: DebianTestImage;
let registry: RegistryServer;
let github: FakeGitHub;
let dataDir: string;
let policy: string;
let port: number;
const token = randomBytes(16).toString("hex");
let serve: ServeChild | undefined;

const start = async (killAt?: string) => {
  serve = await startServeChild(dataDir, {
    port,
    insecureRegistries: [registry.host],
    env: {
      PORTCULLIS_HOOK_TOKEN: token,
      PORTCULLIS_LOCAL_STORE: "sqlite",
      // work a killed process held is taken over after 5 s, not the default minute
      PORTCULLIS_LOCAL_LOCK_SECONDS: "5",
      // a kill counts as a delivery of every message in flight (as on Service Bus): room for all of them
      PORTCULLIS_MAX_DELIVERIES: String(Math.min(100, KILL_PLAN.length + RANDOM_KILLS + 5)),
      PORTCULLIS_POLICY: policy,
      PORTCULLIS_GITHUB_TOKEN: "test-github-token",
      PORTCULLIS_GITHUB_API_URL: github.url,
      [KILL_AT_VARIABLE]: killAt ?? "",
    },
  });
  return serve;
};

const api = async (pathAndQuery: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
};

beforeAll(async () => {
  image = await buildDebianTestImage();
  github = await FakeGitHub.start();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-crash-anywhere-"));
  policy = path.join(dataDir, "portcullis.yaml");
  await writeFile(policy, "tracking:\n  repositories:\n    - images: ['crash/**']\n      github: acme/app\n");
  // the vulnerability DB is in the store before serve first starts: no feed is ever fetched
  const db = openLocalStore(path.join(dataDir, LOCAL_STORE_FILE));
  await writeTestDb(new SqliteBlobStore(db));
  db.close();
  port = await freePort();
  registry = await startRegistry({
    notifications: [
      {
        url: `http://127.0.0.1:${port}/api/hooks/distribution`,
        bearerToken: token,
        timeout: "3s",
        backoff: "200ms",
        ignoredMediaTypes: ["application/octet-stream"],
      },
    ],
  });
}, 300_000);

afterAll(async () => {
  if (serve) await killHard(serve);
  await registry?.stop();
  await github?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true once serve died by SIGKILL (its kill point fired), false after `ms` without. */
const killedWithin = (child: ServeChild, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (child.child.signalCode !== null) return resolve(child.child.signalCode === "SIGKILL");
    const timer = setTimeout(() => resolve(false), ms);
    child.child.once("exit", (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === "SIGKILL");
    });
  });

it(
  `loses no push of ${PUSHES} and duplicates no effect while serve is killed at each of ${KILL_PLAN.length} kill points and ${RANDOM_KILLS} random instants (seed ${SEED})`,
  async () => {
    const random = seededRandom(SEED);
    const digest = image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest;
    const repositories = Array.from({ length: PUSHES }, (_, i) => `crash/app${i}`);
    const started = Date.now();
    const kills: { at: string; ms: number; pushed: number }[] = [];

    let pushed = 0;
    /** one extra notification for a push, resent like a registry does until it is answered 202 */
    const duplicates: Promise<void>[] = [];
    const announce = async (repository: string, eventId: string) => {
      for (;;) {
        const res = await fetch(`http://127.0.0.1:${port}/api/hooks/distribution`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(distributionPush(registry.host, repository, "v1", digest, eventId)),
        }).catch(() => undefined);
        if (res?.status === 202) return;
        await sleep(200);
      }
    };
    const push = async () => {
      const i = pushed;
      if (i >= repositories.length) return;
      pushed++;
      await pushImage(image.ociAmd64Ref, `${registry.host}/${repositories[i]}:v1`);
      // every fourth push is also announced by hand: the same push twice, across whatever crash comes
      if (i % 4 === 3) duplicates.push(announce(repositories[i]!, `dup-${i}`));
    };

    // 1. each kill point once: serve kills itself there; a push joins after each restart
    let pushing: Promise<void> = Promise.all(Array.from({ length: FIRST_PUSHES }, push)).then(() => {});
    for (const at of KILL_PLAN) {
      // a redelivered message can reach the point before serve says it listens
      const child = await start(at).catch((err: Error) => {
        if (/serve exited SIGKILL/.test(err.message)) return undefined;
        throw err;
      });
      const killed = child === undefined || (await killedWithin(child, 240_000));
      expect(killed, `kill point ${at} was not reached:\n${child?.output().slice(-3000)}`).toBe(true);
      kills.push({ at, ms: Date.now() - started, pushed });
      console.log(`killed at ${at} after ${Date.now() - started} ms, ${pushed} pushed`);
      pushing = pushing.then(push);
    }

    // 2. kills at random instants while the remaining pushes trickle in
    await start();
    const trickling = (async () => {
      await pushing;
      while (pushed < repositories.length) {
        await sleep(random() * 1500);
        await push();
      }
    })();
    for (let k = 0; k < RANDOM_KILLS; k++) {
      if (k === 0) {
        // the accepted request must already be on disk when the answer leaves
        const res = await fetch(`${serve!.url}/api/hooks/distribution`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          // the registry notified this push too: a duplicate across a crash
          body: JSON.stringify(distributionPush(registry.host, repositories[0]!, "v1", digest, "manual-1")),
        });
        expect(res.status).toBe(202);
      } else await sleep(500 + random() * 4500);
      await killHard(serve!);
      kills.push({ at: k === 0 ? "after-202" : "random", ms: Date.now() - started, pushed });
      await start();
    }
    await trickling;
    await Promise.all(duplicates);

    // every push ends with exactly one verdict, and no scan is left pending or failed
    const deadline = Date.now() + 300_000;
    let last = await countDone(repositories, digest);
    while (last.missing.length > 0 && Date.now() < deadline) {
      await sleep(500);
      last = await countDone(repositories, digest);
    }
    expect(last.failed).toEqual([]);
    expect(last.missing).toEqual([]);
    for (const repository of repositories) {
      const gate = await api(
        `/api/gate?image=${encodeURIComponent(`${registry.host}/${repository}@${digest}`)}`,
      );
      expect([200, 403], `${repository}: ${JSON.stringify(gate.body)}`).toContain(gate.status);
    }
    const listed = await api("/api/images?limit=5000");
    const rows = listed.body.images as { repository: string; digest: string }[];
    expect(rows.map((r) => r.repository).sort()).toEqual([...repositories].sort());

    // each push tracked by exactly one GitHub issue, however often tracking was killed mid-write
    const titles = repositories.map((r) => `Vulnerable image: ${registry.host}/${r}`).sort();
    // tracking is one stream at a time, and the GitHub client paces its writes: time per push
    const issuesUntil = Date.now() + 120_000 + PUSHES * 3_000;
    while (github.issuesOf("acme", "app").length < titles.length && Date.now() < issuesUntil)
      await sleep(500);
    await sleep(2000);
    expect(
      github
        .issuesOf("acme", "app")
        .map((i) => i.title)
        .sort(),
    ).toEqual(titles);
    expect(github.problems).toEqual([]);
    console.log(
      `crash-anywhere seed ${SEED}: ${kills.length} kills; ${last.done}/${repositories.length} verdicts in ${Date.now() - started} ms; ${JSON.stringify(kills)}`,
    );

    // nothing left behind: every queue drained, nothing poisoned, one verdict record per push
    await killHard(serve!);
    serve = undefined;
    const db = openLocalStore(path.join(dataDir, LOCAL_STORE_FILE));
    const queued = db.prepare("SELECT queue, count(*) AS n FROM queue_messages GROUP BY queue").all();
    const records: string[] = [];
    for await (const key of new SqliteBlobStore(db).list("verdicts/")) {
      if (!/\/(latest|rescan-failure)\.json$/.test(key)) records.push(key.split("/").slice(2, 4).join("/"));
    }
    db.close();
    expect(queued).toEqual([]);
    expect(records.sort()).toEqual([...repositories].sort());
  },
  1_500_000 + PUSHES * 10_000,
);

async function countDone(repositories: readonly string[], digest: string) {
  const failed: string[] = [];
  const missing: string[] = [];
  const states: Record<string, number> = {};
  let done = 0;
  for (const repository of repositories) {
    const scanId = scanIdOf({ registry: registry.host, repository, digest });
    const status = await api(`/api/scans/${scanId}`).catch(() => undefined);
    const state = status?.status === 200 ? String(status.body.status) : "absent";
    states[state] = (states[state] ?? 0) + 1;
    if (state === "done") done++;
    else if (state === "failed") failed.push(`${repository}: ${JSON.stringify(status?.body.reason)}`);
    else missing.push(`${repository}: ${state}`);
  }
  return { done, failed, missing, states };
}
