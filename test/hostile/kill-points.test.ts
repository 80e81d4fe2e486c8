import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  KILL_AT_VARIABLE,
  KillSwitch,
  killingDeps,
  killingHandlers,
  killSwitchFromEnv,
  parseKillPoint,
} from "../../shared/local/kill-points.js";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import { SqliteBus } from "../../shared/local/sqlite-bus.js";
import { openLocalStore, type SqliteDatabase } from "../../shared/local/sqlite-database.js";
import { SqliteTableStore } from "../../shared/local/sqlite-table-store.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { STAGE_HANDLERS, type StageHandlers } from "../../shared/stages/stage-queues.js";

/**
 * The crash tests' kill points (shared/local/kill-points.ts) on the local host's real SQLite ports:
 * where each point fires, that what came before it is already committed when it fires, and that
 * nothing is armed unless the test-only variable is set. The kill itself is replaced by a throw
 * here; test/hostile/crash-anywhere.test.ts SIGKILLs `portcullis serve` at every point.
 */
class Killed extends Error {}

let dir: string;
let db: SqliteDatabase;
let deps: PipelineDeps;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-kill-points-"));
  db = openLocalStore(path.join(dir, "store.sqlite"));
  deps = {
    tables: new SqliteTableStore(db),
    blobs: new SqliteBlobStore(db),
    bus: new SqliteBus(db),
  } as unknown as PipelineDeps;
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A stage that does what real ones do: a row, a blob, a hand-off. */
const writingStage: StageHandlers["matching"] = async (message, d) => {
  await d.tables.upsert("scans", message.scanId, "state", { status: "matching" });
  await d.blobs.put(`matches/${message.scanId}.json`, "{}");
  await d.bus.send("verdict", { scanId: message.scanId }, { messageId: `verdict-${message.scanId}` });
};
const handlers: StageHandlers = { ...STAGE_HANDLERS, matching: writingStage };
const message = { scanId: "s1" } as Parameters<StageHandlers["matching"]>[0];

/** Runs the wrapped stage with a switch that records every hit of every point and throws at `at`. */
async function runUntil(at: string): Promise<{ reached: string[]; killed: boolean }> {
  const reached: string[] = [];
  const killSwitch = new KillSwitch(parseKillPoint(at), () => {
    throw new Killed(at);
  });
  const reach = killSwitch.reach.bind(killSwitch);
  killSwitch.reach = (where, point) => {
    reached.push(`${where}:${point}`);
    reach(where, point);
  };
  const killed = await killingHandlers(handlers, killSwitch)
    .matching(message, deps)
    .then(
      () => false,
      (err) => {
        if (err instanceof Killed) return true;
        throw err;
      },
    );
  return { reached, killed };
}

const queued = () => db.prepare("SELECT count(*) AS n FROM queue_messages WHERE queue = 'verdict'").get();

describe("kill points", () => {
  it("meets a stage's points in order: received, each write, the hand-off, handled", async () => {
    const { reached, killed } = await runUntil("verdict:handled");
    expect(killed).toBe(false);
    expect(reached).toEqual([
      "matching:received",
      "matching:wrote",
      "matching:wrote",
      "matching:sent",
      "matching:handled",
    ]);
  });

  it("fires after the write it names is committed, and before anything after it", async () => {
    const { killed } = await runUntil("matching:wrote@1");
    expect(killed).toBe(true);
    expect((await deps.tables.get("scans", "s1", "state"))?.properties.status).toBe("matching");
    expect(await deps.blobs.get("matches/s1.json")).toBeUndefined();
    expect(queued()).toEqual({ n: 0 });

    expect((await runUntil("matching:wrote@2")).killed).toBe(true);
    expect((await deps.blobs.get("matches/s1.json"))?.toString()).toBe("{}");
    expect(queued()).toEqual({ n: 0 });
  });

  it("fires at `sent` with the hand-off on the queue, and at `handled` once the stage returned", async () => {
    expect((await runUntil("matching:sent")).killed).toBe(true);
    expect(queued()).toEqual({ n: 1 });
    const handled = await runUntil("matching:handled");
    expect(handled.killed).toBe(true);
    expect(handled.reached.at(-1)).toBe("matching:handled");
  });

  it("fires at `received` before the stage wrote anything", async () => {
    expect((await runUntil("matching:received")).killed).toBe(true);
    expect(await deps.tables.get("scans", "s1", "state")).toBeUndefined();
  });

  it("fires on the n-th hit only, once", () => {
    let kills = 0;
    const killSwitch = new KillSwitch(parseKillPoint("intake:sent@2"), () => kills++);
    for (let i = 0; i < 5; i++) killSwitch.reach("intake", "sent");
    killSwitch.reach("verdict", "sent");
    expect(kills).toBe(1);
  });

  it("watches intake's writes and sends (the hooks' ports)", async () => {
    const reached: string[] = [];
    const killSwitch = new KillSwitch(parseKillPoint("intake:sent"), () => reached.push("killed"));
    const intake = killingDeps(
      { tables: deps.tables, blobs: deps.blobs, bus: deps.bus },
      "intake",
      killSwitch,
    );
    await intake.tables.insertIfAbsent("events", "event", "e1", { state: "claimed" });
    expect(reached).toEqual([]);
    await intake.bus.send("scan-requests", { scanId: "s1" }, { messageId: "m1" });
    expect(reached).toEqual(["killed"]);
    // reads pass through untouched
    expect((await intake.tables.get("events", "event", "e1"))?.properties.state).toBe("claimed");
  });

  it("is armed only by the test-only variable, and refuses a point that does not exist", () => {
    expect(killSwitchFromEnv({})).toBeUndefined();
    expect(killSwitchFromEnv({ [KILL_AT_VARIABLE]: "" })).toBeUndefined();
    expect(killSwitchFromEnv({ [KILL_AT_VARIABLE]: "verdict:sent@3" })?.at).toEqual({
      where: "verdict",
      point: "sent",
      nth: 3,
    });
    for (const bad of ["verdict", "verdict:after", "nowhere:sent", "verdict:sent@0", "verdict:sent@x"]) {
      expect(() => parseKillPoint(bad), bad).toThrow(KILL_AT_VARIABLE);
    }
  });
});
