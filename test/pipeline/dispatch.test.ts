import { beforeEach, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { runTriggeredMessage } from "../../shared/stages/dispatch.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { createRequestScan, readScan } from "../../shared/stages/scan-state.js";
import { STAGE_HANDLERS, type StageHandlers } from "../../shared/stages/stage-queues.js";
import { scanRequest } from "../../shared/stages/start-scan.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

// The Functions path of the dispatch rule: the runtime retries on a throw and dead-letters after
// MaxDeliveryCount, so the scan's failure must be written here (the local bus's onPoison does it there).
let tables: MemoryTableStore;
let deps: PipelineDeps;
const request = scanRequest(
  { registry: "registry.test", repository: "team/app", tag: "1.0" },
  { kind: "manual", source: "api" },
).body;

const failingResolve = (err: unknown): StageHandlers => ({
  ...STAGE_HANDLERS,
  "scan-requests": () => Promise.reject(err),
});
const status = async () => (await readScan(tables, request.scanId))?.state;

beforeEach(async () => {
  tables = new MemoryTableStore();
  deps = { tables, now: () => new Date(), log: () => {} } as unknown as PipelineDeps;
  await createRequestScan(tables, request, new Date());
});

describe("runTriggeredMessage: retry and give-up rule of the Functions triggers", () => {
  it("fails the scan and completes a message that does not match its queue's schema", async () => {
    const invalid = { ...request, image: { registry: "registry.test" } };
    await expect(
      runTriggeredMessage("scan-requests", invalid, { deliveryCount: 1, maxDeliveries: 5 }, deps),
    ).resolves.toBeUndefined();
    expect(await status()).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("does not match its schema"),
    });
  });

  it("decodes a body delivered as JSON text", async () => {
    const seen: unknown[] = [];
    const handlers = { ...STAGE_HANDLERS, "scan-requests": async (m: unknown) => void seen.push(m) };
    await runTriggeredMessage(
      "scan-requests",
      JSON.stringify(request),
      { deliveryCount: 1, maxDeliveries: 5 },
      deps,
      handlers as StageHandlers,
    );
    expect(seen).toEqual([request]);
  });

  it("fails the scan at once and completes the message on an error retrying cannot fix", async () => {
    const gone = new ScanError("not-found", "manifest unknown");
    await expect(
      runTriggeredMessage(
        "scan-requests",
        request,
        { deliveryCount: 1, maxDeliveries: 5 },
        deps,
        failingResolve(gone),
      ),
    ).resolves.toBeUndefined();
    expect(await status()).toMatchObject({ status: "failed", reason: "manifest unknown" });
  });

  it("rethrows a transient error for the runtime to retry, leaving the scan as it was", async () => {
    const busy = new ScanError("registry-unavailable", "503", { permanent: false });
    await expect(
      runTriggeredMessage(
        "scan-requests",
        request,
        { deliveryCount: 4, maxDeliveries: 5 },
        deps,
        failingResolve(busy),
      ),
    ).rejects.toBe(busy);
    expect(await status()).toMatchObject({ status: "queued" });
  });

  it("fails the scan on the last delivery, then rethrows so the message is dead-lettered", async () => {
    const busy = new Error("connection reset");
    await expect(
      runTriggeredMessage(
        "scan-requests",
        request,
        { deliveryCount: 5, maxDeliveries: 5 },
        deps,
        failingResolve(busy),
      ),
    ).rejects.toBe(busy);
    expect(await status()).toMatchObject({
      status: "failed",
      reason: "failed 5 times, last: connection reset",
    });
  });
});
