import { describe, expect, it } from "vitest";
import { readSettings } from "../../shared/composition/settings.js";
import type { TrackingMessage } from "../../shared/model/messages.js";
import type { BusSender } from "../../shared/ports/bus.js";
import { TrackingConfigSchema } from "../../shared/policy/tracking-config.js";
import type { PipelineDeps } from "../../shared/stages/pipeline-deps.js";
import { trackingStage } from "../../shared/stages/tracking-stage.js";
import type { IssueTracker } from "../../shared/tracking/issue-tracker.js";
import { trackingFromSettings, trackingRetryOf } from "../../shared/tracking/tracking-from-settings.js";
import { listLedger } from "../../shared/tracking/tracking-ledger.js";
import { retryDelaySeconds } from "../../shared/tracking/tracking-setup.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

/** The tracking stage's patience with GitHub comes from the settings, in both hosts. */
describe("tracking retry settings", () => {
  it("default to 60 tries, 2 s doubling up to 5 min", () => {
    const retry = trackingRetryOf(readSettings({}));
    expect(retry).toEqual({ maxAttempts: 60, firstDelaySeconds: 2, maxDelaySeconds: 300 });
    expect([1, 2, 3, 8, 9, 10, 59].map((a) => retryDelaySeconds(a, retry))).toEqual([
      2, 4, 8, 256, 300, 300, 300,
    ]);
  });

  it("are read from the environment and handed to the stage by trackingFromSettings", () => {
    const settings = readSettings({
      PORTCULLIS_GITHUB_TOKEN: "t",
      PORTCULLIS_TRACKING_MAX_ATTEMPTS: "5",
      PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS: "10",
      PORTCULLIS_TRACKING_RETRY_MAX_SECONDS: "25",
    });
    const setup = trackingFromSettings(settings, undefined, () => {});
    expect(setup?.retry).toEqual({ maxAttempts: 5, firstDelaySeconds: 10, maxDelaySeconds: 25 });
    expect([1, 2, 3].map((a) => retryDelaySeconds(a, setup!.retry))).toEqual([10, 20, 25]);
  });

  it("never waits less than the first delay when the max is set below it", () => {
    expect(retryDelaySeconds(1, { maxAttempts: 3, firstDelaySeconds: 30, maxDelaySeconds: 5 })).toBe(30);
  });

  it.each([
    ["PORTCULLIS_TRACKING_MAX_ATTEMPTS", "0"],
    ["PORTCULLIS_TRACKING_MAX_ATTEMPTS", "2.5"],
    ["PORTCULLIS_TRACKING_MAX_ATTEMPTS", "many"],
    ["PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS", "-1"],
    ["PORTCULLIS_TRACKING_RETRY_MAX_SECONDS", "0"],
    ["PORTCULLIS_TRACKING_RETRY_MAX_SECONDS", "1e9"],
  ])("refuse %s=%s, naming the setting", (name, value) => {
    expect(() => readSettings({ [name]: value })).toThrow(name);
  });

  it("the stage puts a message back with the configured delay, and gives up visibly after the configured tries", async () => {
    const tables = new MemoryTableStore();
    const sent: { body: TrackingMessage; delaySeconds: number | undefined }[] = [];
    const bus = {
      send: async (_queue: string, body: unknown, options?: { delaySeconds?: number }) => {
        sent.push({ body: body as TrackingMessage, delaySeconds: options?.delaySeconds });
      },
    } as unknown as BusSender;
    const unreachable = async () => {
      throw Object.assign(new Error("Bad Gateway"), { status: 502 });
    };
    const tracker = {
      listTracked: unreachable,
      create: unreachable,
      update: unreachable,
      comment: unreachable,
      recentComments: unreachable,
      react: unreachable,
    } satisfies IssueTracker;
    const settings = readSettings({
      PORTCULLIS_TRACKING_MAX_ATTEMPTS: "2",
      PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS: "7",
      PORTCULLIS_TRACKING_RETRY_MAX_SECONDS: "9",
    });
    const logs: string[] = [];
    const deps = {
      tables,
      blobs: { get: async () => undefined },
      bus,
      openSource: async () => {
        throw new Error("no registry here");
      },
      now: () => new Date("2026-12-05T10:00:00Z"),
      log: (m: string) => logs.push(m),
      tracking: {
        tracker,
        config: TrackingConfigSchema.parse({ repositories: [{ images: ["team/**"], github: "acme/app" }] }),
        webUrl: "https://github.com",
        retry: trackingRetryOf(settings),
      },
    } as unknown as PipelineDeps;
    const digest = `sha256:${"c".repeat(64)}`;
    const msg: TrackingMessage = {
      type: "tracking",
      v: 1,
      scanId: "0".repeat(32),
      image: {
        ref: `r.test/team/app@${digest}`,
        registry: "r.test",
        repository: "team/app",
        digest,
        tags: ["latest"],
        platform: { os: "linux", architecture: "amd64" },
      },
      reportKey: "k",
      verdict: { decision: "pass", reasons: [] },
      dbVersion: "1",
      cause: "verdict",
      at: "2026-12-05T09:00:00Z",
      run: "1",
    };

    await trackingStage(msg, deps);
    await trackingStage(sent[0]!.body, deps);
    expect(sent.map((s) => [s.body.attempt, s.delaySeconds])).toEqual([
      [1, 7],
      [2, 9],
    ]);
    await trackingStage(sent[1]!.body, deps);
    expect(sent).toHaveLength(2);
    expect(logs.some((l) => /given up after 2 tries/.test(l))).toBe(true);
    const rows = [];
    for await (const row of listLedger(tables)) rows.push(row);
    expect(rows.map((r) => r.entry.lastError)).toEqual([expect.stringMatching(/given up after 2 tries/)]);
  });
});
