import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LOCAL_STORE_FILE, openLocalStore } from "../../shared/local/sqlite-database.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { scanIdOf } from "../../shared/model/messages.js";
import { distributionPush } from "../pipeline/notifications.js";
import { writeTestDb } from "../pipeline/test-db.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { freePort } from "../support/free-port.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { seededRandom } from "../support/seeded-random.js";
import { killHard, type ServeChild, startServeChild } from "./support/serve-child.js";

/**
 * Crash anywhere: pushes to a real Distribution registry that notifies `portcullis serve`, while the
 * test SIGKILLs serve at seeded random instants and restarts it on the same data dir and port. The
 * registry retries a notification until it is answered, and never after a 2xx: a push is lost only
 * if serve loses it. Seed, pushes and kills can be raised for a soak (PORTCULLIS_CRASH_*).
 */
const SEED = Number(process.env.PORTCULLIS_CRASH_SEED ?? 9);
const PUSHES = Number(process.env.PORTCULLIS_CRASH_PUSHES ?? 20);
const KILLS = Number(process.env.PORTCULLIS_CRASH_KILLS ?? 6);
/** where the first kills land (by the scans' states seen through the API); any further ones at random */
const KILL_PHASES = [
  "after-202",
  "mid-resolve",
  "mid-analysis",
  "first-verdict",
  "mid-join-or-matching",
  "mid-verdict",
];
/** pushed at once at the start; the others one by one after the first verdict */
const LOCKSTEP_PUSHES = 5;

let image: DebianTestImage;
let registry: RegistryServer;
let dataDir: string;
let port: number;
const token = randomBytes(16).toString("hex");
let serve: ServeChild | undefined;

const start = async () => {
  serve = await startServeChild(dataDir, {
    port,
    insecureRegistries: [registry.host],
    env: {
      PORTCULLIS_HOOK_TOKEN: token,
      PORTCULLIS_LOCAL_STORE: "sqlite",
      // work a killed process held is taken over after 5 s, not the default minute
      PORTCULLIS_LOCAL_LOCK_SECONDS: "5",
      // a kill counts as a delivery of every message in flight (as on Service Bus): room for all of them
      PORTCULLIS_MAX_DELIVERIES: String(KILLS + 5),
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
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-crash-anywhere-"));
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
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(`loses no push of ${PUSHES} while serve is SIGKILLed ${KILLS} times (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const digest = image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest;
  const repositories = Array.from({ length: PUSHES }, (_, i) => `crash/app${i}`);
  await start();

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
  // the first pushes share one layer analysis and move in lockstep; the rest trickle in once the
  // layers are cached, so their scans are in different stages when the later kills land
  let firstVerdict = false;
  const pushing = (async () => {
    for (const [i, repository] of repositories.entries()) {
      if (i >= LOCKSTEP_PUSHES) {
        while (!firstVerdict) await sleep(200);
        await sleep(random() * 1500);
      }
      await pushImage(image.ociAmd64Ref, `${registry.host}/${repository}:v1`);
      pushed++;
      // every fourth push is also announced by hand: the same push twice, across whatever crash comes
      if (i % 4 === 3) duplicates.push(announce(repository, `dup-${i}`));
    }
  })();

  const kills: { phase: string; atMs: number; pushed: number; states: Record<string, number> }[] = [];
  const started = Date.now();
  /** waits (30 s at most) until some scan is in `state`: the kill then lands in that stage */
  const untilSome = async (state: string) => {
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const { states } = await countDone(repositories, digest);
      if ((states.done ?? 0) > 0) firstVerdict = true;
      if ((states[state] ?? 0) > 0) return;
      await sleep(100);
    }
  };
  for (let k = 0; k < KILLS; k++) {
    const phase = KILL_PHASES[k] ?? "random";
    if (phase === "after-202") {
      // the accepted request must already be on disk when the answer leaves
      while (pushed === 0) await sleep(50);
      const res = await fetch(`${serve!.url}/api/hooks/distribution`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        // the registry notifies this push too, later: a duplicate across a crash
        body: JSON.stringify(distributionPush(registry.host, repositories[0]!, "v1", digest, "manual-1")),
      });
      expect(res.status).toBe(202);
    } else if (phase === "mid-resolve") await untilSome("queued");
    else if (phase === "first-verdict") await untilSome("done");
    else if (phase === "mid-analysis") {
      await untilSome("analyzing");
      await sleep(random() * 2000);
    } else if (phase === "mid-join-or-matching") await untilSome("matching");
    else if (phase === "mid-verdict") {
      // while the trickled pushes flow: some done, some not yet
      await untilSome("done");
      await sleep(random() * 3000);
    } else await sleep(500 + random() * 4500);
    const { states } = await countDone(repositories, digest);
    if ((states.done ?? 0) > 0) firstVerdict = true;
    await killHard(serve!);
    kills.push({ phase, atMs: Date.now() - started, pushed, states });
    console.log(
      `kill ${k + 1} (${phase}) at ${Date.now() - started} ms: ${pushed} pushed, ${JSON.stringify(states)}`,
    );
    await start();
  }
  firstVerdict = true;
  await pushing;
  await Promise.all(duplicates);

  // every push ends with exactly one verdict, and no scan is left pending or failed
  const everything = repositories;
  const deadline = Date.now() + 300_000;
  let last = await countDone(everything, digest);
  while (last.missing.length > 0 && Date.now() < deadline) {
    await sleep(500);
    last = await countDone(everything, digest);
  }
  console.log(
    `crash-anywhere seed ${SEED}: ${kills.length} kills; ${last.done}/${everything.length} verdicts; ${JSON.stringify(kills)}`,
  );
  expect(last.failed).toEqual([]);
  expect(last.missing).toEqual([]);
  for (const repository of everything) {
    const gate = await api(
      `/api/gate?image=${encodeURIComponent(`${registry.host}/${repository}@${digest}`)}`,
    );
    expect([200, 403], `${repository}: ${JSON.stringify(gate.body)}`).toContain(gate.status);
  }
  const listed = await api("/api/images?limit=5000");
  const rows = listed.body.images as { repository: string; digest: string }[];
  expect(rows.map((r) => r.repository).sort()).toEqual([...everything].sort());

  // nothing left behind: every queue drained, nothing poisoned
  await killHard(serve!);
  serve = undefined;
  const db = openLocalStore(path.join(dataDir, LOCAL_STORE_FILE));
  const queued = db.prepare("SELECT queue, count(*) AS n FROM queue_messages GROUP BY queue").all();
  db.close();
  expect(queued).toEqual([]);
}, 600_000);

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
