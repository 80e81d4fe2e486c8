import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { KillSwitch, killingDeps, parseKillPoint } from "../../shared/local/kill-points.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { SqliteBus } from "../../shared/local/sqlite-bus.js";
import { openLocalStore, type SqliteDatabase } from "../../shared/local/sqlite-database.js";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import { scanIdOf } from "../../shared/model/messages.js";
import { readScan } from "../../shared/stages/scan-state.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";

/**
 * Intake dying at each of its writes (the kill points of shared/local/kill-points.ts), on the local
 * host's SQLite store: the registry got no answer, so it redelivers the same event; the redelivery,
 * once the dead delivery's claim is stale, must start the scan — never take its own half-written
 * claims for a duplicate. A kill here makes the process's every later write fail, as death does:
 * no cleanup runs.
 */
const TOKEN = "hook-token";
const DIGEST = `sha256:${"c".repeat(64)}`;
const REGISTRY = "127.0.0.1:5000";
const body = distributionPush(REGISTRY, "crash/app", "v1", DIGEST, "event-1");
const scanId = scanIdOf({ registry: REGISTRY, repository: "crash/app", digest: DIGEST });

class Killed extends Error {}

/** The tables a process sees: once it is dead, no write of its reaches the store. */
function mortalTables(tables: TableStore, dead: () => boolean): TableStore {
  return new Proxy(tables, {
    get(target, name) {
      const value = Reflect.get(target, name, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (dead() && name !== "get" && name !== "query") throw new Killed("the process is dead");
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

let dir: string;
let db: SqliteDatabase;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-intake-crash-"));
  db = openLocalStore(path.join(dir, "store.sqlite"));
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** One delivery of the notification by a process started at `at`, optionally killed at `killAt`. */
async function deliver(at: Date, killAt?: string) {
  let dead = false;
  const stores = {
    tables: mortalTables(new SqliteTableStore(db), () => dead),
    blobs: new SqliteBlobStore(db),
    bus: new SqliteBus(db),
  };
  const ports = killAt
    ? killingDeps(
        stores,
        "intake",
        new KillSwitch(parseKillPoint(killAt), () => {
          dead = true;
          throw new Killed(killAt);
        }),
      )
    : stores;
  const deps: HttpDeps = { ...ports, now: () => at, log: () => {}, hookAuth: { bearerToken: TOKEN } };
  const sent = dispatch(
    request("POST", "/api/hooks/distribution", {
      body,
      headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
    }),
    deps,
  );
  return sent.then(
    // the router turns the kill's throw into a 500: a dead process answers nothing
    (res) => ({ status: dead ? 0 : res.status, body: res.body as Record<string, unknown> }),
    (err) => {
      if (err instanceof Killed) return { status: 0, body: {} as Record<string, unknown> };
      throw err;
    },
  );
}

const queued = () =>
  (
    db.prepare("SELECT count(*) AS n FROM queue_messages WHERE queue = 'scan-requests'").get() as {
      n: number;
    }
  ).n;

describe("intake killed at each of its writes", () => {
  // 1 the event's claim, 2 the (digest, tag) window, 3 the scan row, then the send, 4 "sent" on the claim
  it.each(["intake:wrote@1", "intake:wrote@2", "intake:wrote@3", "intake:sent", "intake:wrote@4"])(
    "killed at %s, the registry's redelivery starts exactly one scan",
    async (killAt) => {
      const t0 = new Date("2026-12-05T12:00:00Z");
      expect((await deliver(t0, killAt)).status).toBe(0);
      // the dead delivery's claim holds off redeliveries for a while, then is taken over
      const later = new Date(t0.getTime() + 31_000);
      const redelivered = await deliver(later);
      expect(redelivered.status).toBe(202);
      const accepted = (redelivered.body.accepted as { scanId: string }[]).map((a) => a.scanId);
      // write 4 marks the event sent: its redelivery is a duplicate; at `sent` the request was on the
      // queue but the claim not yet "sent": the redelivery sends again and the bus's window drops it
      expect(accepted).toEqual(killAt === "intake:wrote@4" ? [] : [scanId]);
      expect(queued()).toBe(1);
      expect((await readScan(new SqliteTableStore(db), scanId))?.state.status).toBe("queued");
      // from now on the event is a plain duplicate
      const again = await deliver(new Date(later.getTime() + 1000));
      expect(again.body).toMatchObject({ accepted: [], duplicates: 1 });
      expect(queued()).toBe(1);
    },
  );
});
