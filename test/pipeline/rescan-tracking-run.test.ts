import { afterEach, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import type { TrackingMessage } from "../../shared/model/messages.js";
import { sweepImagesInUse } from "../../shared/stages/jobs/scheduled-rescan.js";
import type { TrackingSetup } from "../../shared/tracking/tracking-setup.js";
import { debianLayer, REGISTRY } from "./fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "./memory-pipeline.js";
import { bearer, distributionPush, request } from "./notifications.js";

let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

describe("each rescan run is its own verdict run for tracking", () => {
  it("two sweeps on one DB version within the duplicate window each reach tracking, with their own run id", async () => {
    // the bus drops a repeated message id within 10 minutes, as Service Bus does
    const p = await memoryPipeline({ duplicateWindowSeconds: 600 });
    pipeline = p;
    // tracking on, its stage replaced by a recorder: what reaches the queue is what is asserted
    p.deps.tracking = {} as TrackingSetup;
    const tracked: TrackingMessage[] = [];
    p.start({ tracking: async (msg) => void tracked.push(msg) });
    const [image] = p.registry.push("team/runs", "v1", [{ layers: [await debianLayer({ demo: "1.0-1" })] }]);
    const digest = image!.identity.digest;
    const pushed = await dispatch(
      request("POST", "/api/hooks/distribution", {
        body: distributionPush(REGISTRY, "team/runs", "v1", digest, "evt-runs"),
        headers: {
          ...bearer(HOOK_TOKEN),
          "content-type": "application/vnd.docker.distribution.events.v2+json",
        },
      }),
      p.http,
    );
    expect(pushed.status).toBe(202);
    await p.bus.idle();
    expect(tracked).toHaveLength(1);

    for (const runId of ["2026120510", "2026120511"]) {
      const sweep = await sweepImagesInUse(p.deps, { runId, olderThanHours: 0, gateWindowHours: 24 });
      expect(sweep.queued).toBe(1);
      await p.bus.idle();
    }
    expect(tracked).toHaveLength(3);
    const [push, first, second] = tracked.map((m) => m.run);
    expect(first).toMatch(/scheduled-2026120510$/);
    expect(second).toMatch(/scheduled-2026120511$/);
    expect(new Set([push, first, second]).size).toBe(3);
    expect(tracked.slice(1).map((m) => m.verdictRecord?.cause)).toEqual(["scheduled", "scheduled"]);
  });
});
