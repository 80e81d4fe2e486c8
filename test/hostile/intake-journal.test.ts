import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { startAzurite } from "../../shared/local/azurite.js";
import { IntakeJournal, journaledIntakeBus } from "../../shared/local/intake-journal.js";
import { AzureTableStore } from "../../shared/ports/azure-table-store.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { StorageQueueBus } from "../../shared/ports/storage-queue-bus.js";
import { readScan } from "../../shared/stages/scan-state.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

const TOKEN = "s3cret-hook-token";
const DIGEST = `sha256:${"d".repeat(64)}`;

describe("the local host's intake journal", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-journal-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a 202 survives storage losing everything it had not saved: the restart replays it", async () => {
    const now = () => new Date();
    // before the crash: storage that will lose everything (in-memory Azurite, then gone)
    const before = await startAzurite();
    const journal = new IntakeJournal(dir);
    const bus = new StorageQueueBus({ connectionString: before.connectionString });
    const deps: HttpDeps = {
      tables: new AzureTableStore({ connectionString: before.connectionString }),
      blobs: new FsBlobStore(path.join(dir, "blobs")),
      bus: journaledIntakeBus(bus, journal, now),
      now,
      log: () => {},
      hookAuth: { bearerToken: TOKEN },
    };
    const res = await dispatch(
      request("POST", "/api/hooks/distribution", {
        body: distributionPush("127.0.0.1:5000", "app", "v1", DIGEST, "journal-1"),
        headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
      }),
      deps,
    );
    expect(res.status).toBe(202);
    const scanId = (res.body as { accepted: { scanId: string }[] }).accepted[0]!.scanId;
    await bus.close();
    await before.stop();
    // a crash mid-append leaves a torn line: it was never acknowledged, and must not stop the replay
    await appendFile(path.join(dir, "intake.journal"), '{"at":"2024-');

    const after = await startAzurite();
    try {
      const tables = new AzureTableStore({ connectionString: after.connectionString });
      const restartedBus = new StorageQueueBus({ connectionString: after.connectionString });
      expect(await readScan(tables, scanId)).toBeUndefined();
      const replayed = await new IntakeJournal(dir).replay(tables, restartedBus, () => {});
      expect(replayed).toBe(1);
      expect((await readScan(tables, scanId))?.state.status).toBe("queued");
      expect(await restartedBus.depth("scan-requests")).toBe(1);
      await restartedBus.close();
    } finally {
      await after.stop();
    }
  });

  it("trims itself while serve runs: entries past the retention are dropped once many have piled up", async () => {
    const trimDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-journal-trim-"));
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const now = () => new Date(clock);
    const journal = new IntakeJournal(trimDir);
    const sent: unknown[] = [];
    const deps: HttpDeps = {
      tables: new MemoryTableStore(),
      blobs: new FsBlobStore(path.join(trimDir, "blobs")),
      bus: journaledIntakeBus(
        { send: async (_q, body) => void sent.push(body), sendBatch: async () => {}, close: async () => {} },
        journal,
        now,
      ),
      now,
      log: () => {},
      hookAuth: { bearerToken: TOKEN },
    };
    // one accepted push a second for 5 minutes: far more than the retention holds
    for (let i = 0; i < 300; i++) {
      const digest = `sha256:${i.toString(16).padStart(64, "0")}`;
      const res = await dispatch(
        request("POST", "/api/hooks/distribution", {
          body: distributionPush("127.0.0.1:5000", "app", `v${i}`, digest, `trim-${i}`),
          headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
        }),
        deps,
      );
      expect(res.status).toBe(202);
      clock += 1000;
    }
    await journal.close();
    const lines = (await readFile(path.join(trimDir, "intake.journal"), "utf8")).trim().split("\n");
    expect(sent).toHaveLength(300);
    expect(lines.length).toBeLessThan(256);
    const times = lines.map((l) => Date.parse((JSON.parse(l) as { at: string }).at));
    // the newest minute is always kept, in order
    expect(times.at(-1)).toBe(clock - 1000);
    expect(times.filter((t) => t >= clock - 61_000)).toHaveLength(61);
    await rm(trimDir, { recursive: true, force: true });
  });
});
