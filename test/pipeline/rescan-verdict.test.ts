import { afterEach, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import type { MatchingMessage, VerdictMessage } from "../../shared/model/messages.js";
import { messageId } from "../../shared/model/messages.js";
import { enqueueRescans } from "../../shared/stages/jobs/scheduled-rescan.js";
import { imagePartition, readScannedImage } from "../../shared/stages/scanned-images.js";
import { STAGE_HANDLERS } from "../../shared/stages/stage-queues.js";
import { readVerdictRecord } from "../../shared/stages/verdict-history.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { readFindings } from "../../shared/stages/findings.js";
import { TABLES } from "../../shared/stages/tables.js";
import { debianLayer, REGISTRY } from "./fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./memory-pipeline.js";
import { bearer, distributionPush, request } from "./notifications.js";

/**
 * A rescan's verdict is made by the matching stage straight after it re-matches the stored
 * inventory (apply-verdict.ts): no matches blob, no verdict message. These pin what that must keep:
 * one verdict per run however often its message comes, the record and diff, the image API's fresh
 * DB version, and a later re-verdict (an accepted risk) that finds no stored matches.
 */
let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

const REPOSITORY = "team/rescanned";

async function pushed(
  matching: MatchingMessage[],
  depsFor?: (msg: MatchingMessage, deps: PipelineDeps) => PipelineDeps,
) {
  const p = await memoryPipeline();
  pipeline = p;
  p.start({
    matching: (msg, deps) => {
      matching.push(structuredClone(msg));
      return STAGE_HANDLERS.matching(msg, depsFor?.(msg, deps) ?? deps);
    },
  });
  const layers = [await debianLayer({ demo: "1.0-1", zlib1g: "1:1.2.13.dfsg-1" })];
  const [image] = p.registry.push(REPOSITORY, "v1", [{ layers }]);
  const digest = image!.identity.digest;
  const answer = await dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, REPOSITORY, "v1", digest, "evt-rescan-verdict"),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p.http,
  );
  expect(answer.status).toBeLessThan(300);
  await p.bus.idle();
  return { p, digest };
}

async function keysUnder(p: MemoryPipeline, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of p.blobs.list(prefix)) keys.push(key);
  return keys.sort();
}

const verdictRecords = async (p: MemoryPipeline) =>
  (await keysUnder(p, "verdicts/")).filter((k) => !/\/(latest|rescan-failure)\.json$/.test(k));

describe("a rescan's verdict, made by its matching delivery", () => {
  it("lands without a verdict message or a matches blob, with its record, an empty diff and the fresh row", async () => {
    const matching: MatchingMessage[] = [];
    const { p, digest } = await pushed(matching);
    const partition = imagePartition(REGISTRY, REPOSITORY);
    const before = (await readScannedImage(p.tables, partition, digest))!;
    const matchesBefore = await keysUnder(p, "matches/");
    const recordsBefore = await verdictRecords(p);
    const verdictsBefore = p.deliveries.verdict;

    await new Promise((r) => setTimeout(r, 5));
    expect(await enqueueRescans(p.deps, { olderThanHours: 0, runId: "run-1" })).toBe(1);
    await p.bus.idle();

    expect(p.deliveries.verdict).toBe(verdictsBefore);
    expect(await keysUnder(p, "matches/")).toEqual(matchesBefore);
    expect(await verdictRecords(p)).toHaveLength(recordsBefore.length + 1);
    const record = await readVerdictRecord(p.blobs, { registry: REGISTRY, repository: REPOSITORY, digest });
    expect(record?.cause).toBe("scheduled");
    // nothing changed: the diff is there and says so
    expect(record?.diff).toBeDefined();
    expect(record?.diff?.new ?? []).toEqual([]);
    expect(record?.diff?.fixed ?? []).toEqual([]);
    expect(record?.diff?.unchanged).toBeGreaterThan(0);
    const after = (await readScannedImage(p.tables, partition, digest))!;
    expect(after.scannedAt > before.scannedAt).toBe(true);
    expect(after.decision).toBe(before.decision);
    expect(after.dbVersion).toBe(before.dbVersion);
    const report = await dispatch(request("GET", `/api/images/${partition}/${digest}`), p.http);
    expect(report.status).toBe(200);
  });

  it("makes one verdict of a rescan message delivered twice", async () => {
    const matching: MatchingMessage[] = [];
    const { p, digest } = await pushed(matching);
    expect(await enqueueRescans(p.deps, { olderThanHours: 0, runId: "run-dup" })).toBe(1);
    await p.bus.idle();
    const rescan = matching.find((m) => m.reason === "rescan")!;
    const records = await verdictRecords(p);
    const row = await readScannedImage(p.tables, imagePartition(REGISTRY, REPOSITORY), digest);

    // the same message again, under another id (a redelivery after a lost completion)
    await p.bus.send("matching", rescan, { messageId: messageId("matching", rescan.scanId, "again") });
    await p.bus.idle();

    expect(p.deliveries.matching).toBe(matching.length);
    expect(matching.filter((m) => m.reason === "rescan")).toHaveLength(2);
    expect(await verdictRecords(p)).toEqual(records);
    const again = await readScannedImage(p.tables, imagePartition(REGISTRY, REPOSITORY), digest);
    expect({ ...again, scannedAt: "" }).toEqual({ ...row, scannedAt: "" });
  });

  it("re-verdicts after a rescan whose matches were never stored by matching the stored inventory again", async () => {
    const matching: MatchingMessage[] = [];
    const { p, digest } = await pushed(matching);
    expect(await enqueueRescans(p.deps, { olderThanHours: 0, runId: "run-2" })).toBe(1);
    await p.bus.idle();
    const row = (await readScannedImage(p.tables, imagePartition(REGISTRY, REPOSITORY), digest))!;
    // as if the rescan had been on a DB version no push was matched against: no matches stored
    for (const key of await keysUnder(p, "matches/")) await p.blobs.delete(key);

    const verdict: VerdictMessage = {
      ...{ type: "verdict", v: 1, scanId: row.scanId, inventoryKey: row.inventoryKey },
      image: { ref: `${REGISTRY}/${REPOSITORY}@${digest}`, registry: REGISTRY, repository: REPOSITORY },
      ...{ reportKey: `matches/${row.scanId}/${row.dbVersion}.json`, dbVersion: row.dbVersion },
      ...{ cause: "command", request: "github-42" },
    } as VerdictMessage;
    verdict.image = { ...verdict.image, digest, tags: row.tags, platform: row.platform };
    const records = await verdictRecords(p);
    await p.bus.send("verdict", verdict, { messageId: messageId("verdict", row.scanId, "github-42") });
    await p.bus.idle();

    expect(await verdictRecords(p)).toHaveLength(records.length + 1);
    const record = await readVerdictRecord(p.blobs, { registry: REGISTRY, repository: REPOSITORY, digest });
    expect(record?.cause).toBe("command");
    const after = (await readScannedImage(p.tables, imagePartition(REGISTRY, REPOSITORY), digest))!;
    expect(after.decision).toBe(row.decision);
    expect(after.findings).toBe(row.findings);
    expect(p.logs.some((l) => /no stored matches .* matched again/.test(l))).toBe(true);
  });

  it("a rescan that dies between its one blob put (record, latest, report) and its rows is redelivered into one verdict", async () => {
    const matching: MatchingMessage[] = [];
    let armed = false;
    let killed = 0;
    // the process dies at the first images-row write of an armed rescan: the blobs are in, no row is
    const dying = (msg: MatchingMessage, deps: PipelineDeps): PipelineDeps => {
      if (!armed || msg.reason !== "rescan") return deps;
      const tables = new Proxy(deps.tables, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver) as unknown;
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            const write = ["upsert", "upsertMany", "insertIfAbsent", "updateIfMatch"].includes(String(name));
            if (armed && write && args[0] === TABLES.images) {
              armed = false;
              killed++;
              throw new TypeError("killed after the verdict's blob put");
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return { ...deps, tables };
    };
    const { p, digest } = await pushed(matching, dying);
    const image = { registry: REGISTRY, repository: REPOSITORY, digest };
    const partition = imagePartition(REGISTRY, REPOSITORY);
    const before = (await readScannedImage(p.tables, partition, digest))!;
    const records = await verdictRecords(p);

    armed = true;
    await new Promise((r) => setTimeout(r, 5));
    expect(await enqueueRescans(p.deps, { olderThanHours: 0, runId: "run-killed" })).toBe(1);
    await p.bus.idle();

    expect(killed).toBe(1);
    expect(matching.filter((m) => m.reason === "rescan")).toHaveLength(2);
    // one verdict however often it ran: one record more, the row and the findings of that verdict
    expect(await verdictRecords(p)).toHaveLength(records.length + 1);
    const record = await readVerdictRecord(p.blobs, image);
    expect(record?.cause).toBe("scheduled");
    const after = (await readScannedImage(p.tables, partition, digest))!;
    expect(after.scannedAt > before.scannedAt).toBe(true);
    expect(after.findings).toBe(before.findings);
    const report = JSON.parse((await p.blobs.get(after.reportKey))!.toString("utf8")) as {
      findings: { id: string }[];
    };
    expect((await readFindings(p.tables, digest)).map((f) => f.id).sort()).toEqual(
      report.findings.map((f) => f.id).sort(),
    );
  });
});
