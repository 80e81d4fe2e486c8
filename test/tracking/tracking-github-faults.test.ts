import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import { listLedger } from "../../shared/tracking/tracking-ledger.js";
import { REGISTRY } from "../pipeline/fake-registry.js";
import { request } from "../pipeline/notifications.js";
import { type Fault, FakeGitHub } from "../support/fake-github.js";
import {
  DEMO_FIXED,
  retryFrom,
  type TrackedPipeline,
  trackedPipeline,
  VULNERABLE,
} from "./tracked-pipeline.js";

/**
 * GitHub failing under the tracking stage on the real pipeline: rate limits, 5xx, reset
 * connections, answers lost after the write, and a long outage. The verdict and the gate never
 * wait; the issue ends right, once.
 */
let github: FakeGitHub;
let t: TrackedPipeline | undefined;
let githubDown = false;

beforeAll(async () => {
  github = await FakeGitHub.start();
}, 30_000);
afterAll(async () => github?.stop());
afterEach(async () => {
  await t?.p.stop();
  t = undefined;
  if (githubDown) await github.up();
  githubDown = false;
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  expect(github.problems).toEqual([]);
});

const issues = () => github.issuesOf("acme", "app");
const creates = () => github.writes(/^POST \/repos\/acme\/app\/issues$/);
const onCreate = (method: string, path: string) => method === "POST" && path === "/repos/acme/app/issues";
const onComment = (method: string, path: string) => method === "POST" && /\/comments$/.test(path);
// more failures in a row than the client retries (3): the stage itself has to put the message back
const BURST = 6;

describe("GitHub failing under the tracking stage", () => {
  it.each<[Fault]>([["secondary-rate-limit"], ["429"], ["502"], ["reset"]])(
    "a burst of %s on the create: retried and put back, one issue, the gate never held",
    async (fault) => {
      t = await trackedPipeline(github);
      github.inject(Array(BURST).fill(fault), onCreate);
      const digest = await t.push("team/app", "latest", VULNERABLE);
      expect(await t.gate("team/app", digest)).toBe(403);
      expect(issues()).toHaveLength(1);
      expect(creates()).toHaveLength(1);
      expect(github.requests.filter((r) => onCreate(r.method, r.path) && r.status !== 201)).toHaveLength(
        BURST,
      );
      expect(t.p.logs.some((l) => /tracking .*trying again in/.test(l))).toBe(true);
    },
    120_000,
  );

  it("a comment failing after the edit is put back: the edit is not lost, the comment is made once", async () => {
    t = await trackedPipeline(github);
    await t.push("team/app", "latest", VULNERABLE);
    github.inject(Array(BURST).fill("502"), onComment);
    await t.push("team/app", "latest", DEMO_FIXED);
    const [issue] = issues();
    expect(issue!.body).not.toContain("CVE-2099-0001");
    expect(github.commentsOn(issue!).map((c) => c.body)).toEqual([
      expect.stringMatching(/Fixed: `CVE-2099-0001`/),
    ]);
    const [row] = await collect(listLedger(t.p.tables));
    expect(row?.entry).toMatchObject({ pending: null, lastError: "" });
  }, 120_000);

  it.each([
    ["the issue's create", onCreate],
    ["the change comment", onComment],
  ])(
    "the answer to %s lost after GitHub wrote it: no duplicate",
    async (what, match) => {
      t = await trackedPipeline(github);
      if (what === "the change comment") await t.push("team/app", "latest", VULNERABLE);
      github.inject(["answer-lost"], match);
      await t.push("team/app", "latest", what === "the change comment" ? DEMO_FIXED : VULNERABLE);
      expect(issues()).toHaveLength(1);
      const comments = github.commentsOn(issues()[0]!).map((c) => c.body);
      expect(comments).toHaveLength(what === "the change comment" ? 1 : 0);
    },
    120_000,
  );

  it("GitHub down past every try: the verdict and gate go on, the stream keeps its move and the error, and catches up with one issue when GitHub is back", async () => {
    t = await trackedPipeline(github, {
      tracking: { retry: retryFrom({ PORTCULLIS_TRACKING_MAX_ATTEMPTS: "3" }) },
    });
    await t.push("team/app", "latest", VULNERABLE);
    expect(issues()).toHaveLength(1);

    await github.down();
    githubDown = true;
    const fixed = await t.push("team/app", "latest", DEMO_FIXED);
    // the verdict was made and answers, whatever GitHub does
    expect(await t.gate("team/app", fixed)).toBe(403);
    expect(t.p.logs.some((l) => /tracking .*given up after 3 tries/.test(l))).toBe(true);
    const listed = await dispatch(
      request("GET", `/api/images?repository=${encodeURIComponent(`${REGISTRY}/team/app`)}`),
      t.p.http,
    );
    const shown = (listed.body as { images: { digest: string; tracking: { error?: string }[] }[] }).images;
    expect(shown.find((i) => i.digest === fixed)?.tracking).toEqual([
      expect.objectContaining({
        issue: "acme/app#1",
        error: expect.stringMatching(/given up after 3 tries/),
      }),
    ]);
    const [row] = await collect(listLedger(t.p.tables));
    expect(Object.values(row!.entry.images).map((i) => i.digest)).toEqual([fixed]);

    // GitHub is back; the stream's next message (here the same image pushed under another tag) catches up
    await github.up();
    githubDown = false;
    await t.notify("team/app", "stable", fixed);
    await t.idle();
    expect(issues()).toHaveLength(1);
    const [issue] = issues();
    expect(issue!.body).not.toContain("CVE-2099-0001");
    expect(issue!.body).toContain(fixed);
    expect(github.commentsOn(issue!).map((c) => c.body)).toEqual([
      expect.stringMatching(/Fixed: `CVE-2099-0001`/),
    ]);
    const [after] = await collect(listLedger(t.p.tables));
    expect(after?.entry.lastError).toBe("");
  }, 120_000);

  it("GitHub refusing the credentials: recorded on the stream at once and shown by the image API, not retried, the gate unaffected", async () => {
    const { githubClients } = await import("../../shared/tracking/github-client.js");
    const { octokitIssueTracker } = await import("../../shared/tracking/issue-tracker.js");
    const tracker = octokitIssueTracker(
      githubClients(
        { apiUrl: github.url, webUrl: "https://github.com", token: "a-revoked-token" },
        { log: () => {}, timeScale: 0.001 },
      ),
    );
    t = await trackedPipeline(github, { tracking: { tracker } });
    const digest = await t.push("team/app", "latest", VULNERABLE);
    expect(await t.gate("team/app", digest)).toBe(403);
    expect(t.p.deliveries.tracking).toBe(1);
    expect(issues()).toHaveLength(0);
    const listed = await dispatch(
      request("GET", `/api/images?repository=${encodeURIComponent(`${REGISTRY}/team/app`)}`),
      t.p.http,
    );
    const [image] = (listed.body as { images: { tracking: { error?: string }[] }[] }).images;
    expect(image?.tracking).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/GitHub refused \(401\)/) }),
    ]);
  }, 120_000);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
