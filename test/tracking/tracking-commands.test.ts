import { readFileSync } from "node:fs";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import type { VerdictMessage } from "../../shared/model/messages.js";
import { verdictStage } from "../../shared/stages/verdict-stage.js";
import { request } from "../pipeline/notifications.js";
import { corpusPath } from "../support/corpus.js";
import { FakeGitHub } from "../support/fake-github.js";
import { webhookPayloadProblems } from "../support/github-webhook-schema.js";
import { type TrackedPipeline, trackedPipeline, VULNERABLE } from "./tracked-pipeline.js";

/**
 * People's commands and the verdict runs they start, with the bus's duplicate detection on (as
 * Service Bus has it): a rescan with an unchanged DB is still a fresh verdict and tracking update,
 * a redelivered verdict is not a second one, and an accepted risk stops counting when it expires.
 */
const SECRET = "commands-secret";
let github: FakeGitHub;
let t: TrackedPipeline | undefined;
let delivery = 0;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const DAY = 86_400_000;

beforeAll(async () => {
  github = await FakeGitHub.start();
}, 30_000);
afterAll(async () => github?.stop());
afterEach(async () => {
  await t?.p.stop();
  t = undefined;
  offsetMs = 0;
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  expect(github.problems).toEqual([]);
});

const issue = () => github.issuesOf("acme", "app")[0]!;

/** A writer's comment on our issue, delivered as GitHub would (its example payload, schema-checked, signed). */
async function command(body: string) {
  const comment = github.commentAsPerson(issue(), body);
  const payload = JSON.parse(
    readFileSync(corpusPath("events", "github", "issue_comment", "created.payload.json"), "utf8"),
  );
  Object.assign(payload.repository, { name: "app", full_name: "acme/app" });
  payload.repository.owner.login = "acme";
  payload.issue.number = issue().number;
  Object.assign(payload.comment, { id: comment.id, body, author_association: "OWNER" });
  expect(webhookPayloadProblems("issue-comment-created", payload)).toEqual([]);
  const raw = JSON.stringify(payload);
  const answer = await dispatch(
    request("POST", "/api/hooks/github", {
      body: raw,
      headers: {
        "content-type": "application/json",
        "x-github-event": "issue_comment",
        "x-github-delivery": `commands-${process.pid}-${++delivery}`,
        "x-hub-signature-256": await sign(SECRET, raw),
      },
    }),
    t!.p.http,
  );
  expect(answer.status).toBe(202);
  await t!.idle();
  expect(comment.reactions).toEqual(["+1"]);
}

describe("commands and verdict runs with duplicate detection on", () => {
  it("an accepted risk suppresses until it expires; the next rescan (same DB) reopens the issue and the gate blocks again", async () => {
    t = await trackedPipeline(github, { duplicateWindowSeconds: 600, now: clock, webhookSecret: SECRET });
    const digest = await t.push("team/app", "latest", VULNERABLE);
    expect(await t.gate("team/app", digest)).toBe(403);

    const until = new Date(clock().getTime() + DAY).toISOString().slice(0, 10);
    await command(`/portcullis accept CVE-2099-0001 until ${until} behind the proxy`);
    await command(`/portcullis accept CVE-2099-0002 until ${until}`);
    expect(await t.gate("team/app", digest)).toBe(200);
    expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(issue().body).toMatch(new RegExp(`CVE-2099-0001 \\| demo \\| accepted-risk[^\\n]*${until}`));

    // three days on, the acceptance has expired: a rescan with the same DB makes a new verdict
    offsetMs = 3 * DAY;
    // a rescan's verdict is made by its matching delivery (apply-verdict.ts), not a verdict message
    const verdicts = t.p.deliveries.matching;
    const tracked = t.p.deliveries.tracking;
    await command("/portcullis rescan");
    expect(t.p.deliveries.matching).toBe(verdicts + 1);
    expect(t.p.deliveries.tracking).toBe(tracked + 1);
    expect(await t.gate("team/app", digest)).toBe(403);
    expect(issue()).toMatchObject({ state: "open", state_reason: "reopened" });
    expect(issue().body).not.toMatch(/accepted-risk/);
    expect(issue().body).toContain("| critical | CVE-2099-0001 | demo |");
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
  }, 120_000);

  it("the change comment says what changed in the rescan and why: the verdict record's cause and diff", async () => {
    t = await trackedPipeline(github, { duplicateWindowSeconds: 600, now: clock, webhookSecret: SECRET });
    const digest = await t.push("team/app", "latest", VULNERABLE);
    const until = new Date(clock().getTime() + DAY).toISOString().slice(0, 10);
    await command(`/portcullis accept CVE-2099-0001 until ${until}`);
    const accepted = github.commentsOn(issue()).at(-1)!.body;
    expect(accepted).toMatch(/- Fixed: `CVE-2099-0001` \(demo\)\n\n#### What changed in this rescan\n/);
    expect(accepted).toContain(
      `Cause: a \`/portcullis rescan\` (or a risk accepted or unaccepted from GitHub) — linux/amd64 \`${digest}\``,
    );
    expect(accepted).toMatch(/- Accepted \(suppressed now\) \(1\): `CVE-2099-0001` in demo 1\.0-1\n/);
    expect(accepted).not.toMatch(/- New \(|- Fixed \(/);

    offsetMs = 3 * DAY;
    await command("/portcullis rescan");
    const expired = github.commentsOn(issue()).at(-1)!.body;
    expect(expired).toMatch(/- Introduced: `CVE-2099-0001` \(demo\)/);
    expect(expired).toMatch(/- Acceptance expired \(counted again\) \(1\): `CVE-2099-0001` in demo 1\.0-1\n/);
    expect(expired).toMatch(/compared with the verdict of [^\n]* \(command\)/);
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
  }, 120_000);

  it("every /portcullis rescan is a fresh verdict and tracking update, even with nothing changed (no GitHub write then)", async () => {
    t = await trackedPipeline(github, { duplicateWindowSeconds: 600, now: clock, webhookSecret: SECRET });
    await t.push("team/app", "latest", VULNERABLE);
    for (let i = 1; i <= 2; i++) {
      // a rescan's verdict is made by its matching delivery (apply-verdict.ts), not a verdict message
      const verdicts = t.p.deliveries.matching;
      const tracked = t.p.deliveries.tracking;
      github.requests.length = 0;
      await command("/portcullis rescan");
      expect(t.p.deliveries.matching).toBe(verdicts + 1);
      expect(t.p.deliveries.tracking).toBe(tracked + 1);
      // the only writes: the acknowledgement
      expect(github.writes().map((r) => `${r.method} ${r.path}`)).toEqual([
        expect.stringMatching(/^POST \/repos\/acme\/app\/issues\/comments\/\d+\/reactions$/),
      ]);
    }
  }, 120_000);

  it("a verdict delivered again sends the same tracking message id, which the bus drops", async () => {
    t = await trackedPipeline(github, { duplicateWindowSeconds: 600, now: clock });
    const sent: { queue: string; body: unknown; id: string }[] = [];
    const send = t.p.bus.send.bind(t.p.bus);
    t.p.bus.send = async (queue, body, options) => {
      sent.push({ queue, body, id: options.messageId });
      return send(queue, body, options);
    };
    await t.push("team/app", "latest", VULNERABLE);
    const verdict = sent.find((s) => s.queue === "verdict")!.body as VerdictMessage;
    const first = sent.filter((s) => s.queue === "tracking").map((s) => s.id);
    expect(first).toHaveLength(1);
    const tracked = t.p.deliveries.tracking;

    offsetMs = 60_000; // a minute later: the id must not come from the clock
    await verdictStage(verdict, t.p.deps);
    await t.idle();
    const again = sent.filter((s) => s.queue === "tracking").map((s) => s.id);
    expect(again).toEqual([first[0], first[0]]);
    expect(t.p.deliveries.tracking).toBe(tracked);
  }, 120_000);
});
