import { readFileSync } from "node:fs";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import { TABLES } from "../../shared/stages/tables.js";
import { listLedger } from "../../shared/tracking/tracking-ledger.js";
import { debianLayer, REGISTRY } from "../pipeline/fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "../pipeline/memory-pipeline.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";
import { corpusPath } from "../support/corpus.js";
import { type FakeGitHub as FakeGitHubType, FakeGitHub } from "../support/fake-github.js";
import { webhookPayloadProblems } from "../support/github-webhook-schema.js";
import { trackingSetup } from "./tracked-pipeline.js";

/**
 * `POST /api/hooks/github` on a tracking issue: commands, closing, reopening and the risk-accepted
 * label, each signed right, signed wrong, replayed, and from someone without write access. Payloads
 * start from GitHub's own examples and are checked against GitHub's webhook schemas before sending.
 */
const SECRET = "webhook-secret";
let github: FakeGitHubType;
let p: MemoryPipeline;
let digest: string;
let delivery = 0;

beforeAll(async () => {
  github = await FakeGitHub.start();
}, 30_000);
afterAll(async () => github?.stop());

beforeEach(async () => {
  p = await memoryPipeline();
  p.deps.tracking = trackingSetup(github);
  p.http.tracking = p.deps.tracking;
  p.http.githubWebhookSecret = SECRET;
  p.start();
  const [image] = p.registry.push("team/app", "latest", [
    { layers: [await debianLayer({ demo: "1.0-1", jq: "1.6-2.1" })] },
  ]);
  digest = image!.identity.digest;
  const answer = await dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, "team/app", "latest", digest, `evt-${Date.now()}`),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p.http,
  );
  expect(answer.status).toBe(202);
  await p.bus.idle({ timeoutMs: 60_000 });
  expect(github.issuesOf("acme", "app")).toHaveLength(1);
}, 60_000);

afterEach(async () => {
  await p?.stop();
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  expect(github.problems).toEqual([]);
});

// biome-ignore lint/suspicious/noExplicitAny: GitHub's example payloads are edited field by field, then schema-checked
type Payload = Record<string, any>;

const example = (file: string) =>
  JSON.parse(readFileSync(corpusPath("events", "github", file), "utf8")) as Payload;

/** GitHub's example payload, moved onto our repository and issue. */
function onOurIssue(payload: Payload): Payload {
  payload.repository.name = "app";
  payload.repository.full_name = "acme/app";
  payload.repository.owner.login = "acme";
  payload.issue.number = 1;
  return payload;
}

function commentPayload(body: string, association = "OWNER", login = "alice") {
  const issue = github.issuesOf("acme", "app")[0]!;
  const comment = github.commentAsPerson(issue, body, login);
  const payload = onOurIssue(example("issue_comment/created.payload.json"));
  Object.assign(payload.comment, { id: comment.id, body, author_association: association });
  payload.comment.user.login = login;
  return { payload, comment };
}

async function deliver(
  event: string,
  schema: string,
  payload: unknown,
  options: { secret?: string; id?: string } = {},
) {
  expect(webhookPayloadProblems(schema, payload)).toEqual([]);
  const body = JSON.stringify(payload);
  const id = options.id ?? `delivery-${++delivery}`;
  const answer = await dispatch(
    request("POST", "/api/hooks/github", {
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": id,
        "x-hub-signature-256": await sign(options.secret ?? SECRET, body),
      },
    }),
    p.http,
  );
  await p.bus.idle({ timeoutMs: 60_000 });
  return { ...answer, id };
}

const gate = async () =>
  (await dispatch(request("GET", `/api/gate?image=${REGISTRY}/team/app@${digest}`), p.http)).status;
const ledger = async () => {
  for await (const row of listLedger(p.tables)) return row.entry;
  throw new Error("no ledger row");
};
const issue = () => github.issuesOf("acme", "app")[0]!;

describe("GitHub webhook on tracking issues", () => {
  it("checks the test payloads against GitHub's webhook schemas (a wrong shape is refused)", () => {
    expect(webhookPayloadProblems("issue-comment-created", { action: "created" })).not.toEqual([]);
  });

  it("accepts a risk from a writer: stored, acknowledged, the verdict and the gate change, the issue lists it with its expiry", async () => {
    expect(await gate()).toBe(403);
    const { payload, comment } = commentPayload(
      "/portcullis accept CVE-2099-0001 until 2099-12-31 not reachable from outside",
    );
    const answer = await deliver("issue_comment", "issue-comment-created", payload);
    expect(answer.status).toBe(202);
    expect(comment.reactions).toEqual(["+1"]);
    const stored = await p.tables.get(TABLES.exceptions, `${REGISTRY}/team/app`, "CVE-2099-0001");
    expect(stored?.properties).toMatchObject({
      expires: "2099-12-31",
      by: "alice",
      reason: "not reachable from outside",
    });
    expect(issue().body).toMatch(
      /### Accepted or suppressed[\s\S]*CVE-2099-0001 \| demo \| accepted-risk \| not reachable from outside/,
    );
    expect(issue().body).toContain("2099-12-31");
    // CVE-2099-0002 still blocks; accept it too and the gate lets the image through
    await deliver(
      "issue_comment",
      "issue-comment-created",
      commentPayload("/portcullis accept CVE-2099-0002").payload,
    );
    expect(await gate()).toBe(200);
    expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });

    // unaccept: the finding is back, the gate blocks, the issue reopens
    await deliver(
      "issue_comment",
      "issue-comment-created",
      commentPayload("/portcullis unaccept CVE-2099-0002").payload,
    );
    expect(await gate()).toBe(403);
    expect(issue()).toMatchObject({ state: "open" });
  }, 120_000);

  it("does nothing for a wrong signature, or for a delivery seen before", async () => {
    const { payload, comment } = commentPayload("/portcullis accept CVE-2099-0001");
    const wrong = await deliver("issue_comment", "issue-comment-created", payload, {
      secret: "not-the-secret",
    });
    expect(wrong.status).toBe(401);
    expect(comment.reactions).toEqual([]);
    const first = await deliver("issue_comment", "issue-comment-created", payload);
    expect(first.status).toBe(202);
    const writes = github.writes().length;
    const replay = await deliver("issue_comment", "issue-comment-created", payload, { id: first.id });
    expect(replay.status).toBe(200);
    expect(github.writes().length).toBe(writes);
  }, 120_000);

  it("answers someone without write access politely and obeys nothing", async () => {
    const before = github.commentsOn(issue()).length;
    const { payload } = commentPayload("/portcullis accept CVE-2099-0001", "NONE", "mallory");
    const answer = await deliver("issue_comment", "issue-comment-created", payload);
    expect(answer.body).toMatchObject({ refused: "no write access" });
    expect(await p.tables.get(TABLES.exceptions, `${REGISTRY}/team/app`, "CVE-2099-0001")).toBeUndefined();
    const replies = github.commentsOn(issue()).slice(before + 1);
    expect(replies.map((c) => c.body)).toEqual([expect.stringMatching(/Only people with write access/)]);
    expect(await gate()).toBe(403);
  }, 120_000);

  it("answers a malformed command with the usage and a confused reaction", async () => {
    const { payload, comment } = commentPayload("/portcullis accept CVE-2099-0001 until someday");
    await deliver("issue_comment", "issue-comment-created", payload);
    expect(comment.reactions).toEqual(["confused"]);
    expect(github.commentsOn(issue()).at(-1)!.body).toMatch(/`until` needs a date/);
  }, 120_000);

  it("rescans on /portcullis rescan: a new verdict, no write when nothing changed", async () => {
    const matchingBefore = p.deliveries.matching;
    const { payload, comment } = commentPayload("/portcullis rescan");
    await deliver("issue_comment", "issue-comment-created", payload);
    expect(p.deliveries.matching).toBe(matchingBefore + 1);
    expect(comment.reactions).toEqual(["+1"]);
    expect(github.writes(/PATCH/)).toEqual([]);
  }, 120_000);

  it("records a person closing the issue as a dismissal, and reopening as resumed tracking", async () => {
    github.closeAsPerson(issue(), "alice", "not_planned");
    const closed = onOurIssue(example("issues/reopened.payload.json"));
    Object.assign(closed, { action: "closed" });
    Object.assign(closed.issue, { state: "closed", closed_at: "2026-12-05T00:00:00Z" });
    // the issue's ledger row is looked up once, and written from what was read
    let ledgerQueries = 0;
    const tables = p.http.tables;
    p.http.tables = new Proxy(tables, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "query") return typeof value === "function" ? value.bind(target) : value;
        return (table: string, ...rest: unknown[]) => {
          if (table === TABLES.tracking) ledgerQueries++;
          return (target.query as (...a: unknown[]) => unknown)(table, ...rest);
        };
      },
    });
    await deliver("issues", "issues-closed", closed);
    p.http.tables = tables;
    expect(ledgerQueries).toBe(1);
    expect(await ledger()).toMatchObject({
      issueState: "closed",
      closedBy: "person",
      dismissed: ["CVE-2099-0001|demo", "CVE-2099-0002|jq"],
    });

    github.reopenAsPerson(issue());
    await deliver("issues", "issues-reopened", onOurIssue(example("issues/reopened.payload.json")));
    expect(await ledger()).toMatchObject({ issueState: "open", closedBy: "", dismissed: [] });
  }, 120_000);

  it("accepts every listed finding when the risk-accepted label is added, with the configured expiry", async () => {
    const labeled = onOurIssue(example("issues/labeled.payload.json"));
    labeled.label.name = "risk-accepted";
    await deliver("issues", "issues-labeled", labeled);
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    for (const id of ["CVE-2099-0001", "CVE-2099-0002"])
      expect((await p.tables.get(TABLES.exceptions, `${REGISTRY}/team/app`, id))?.properties).toMatchObject({
        expires,
      });
    expect(await gate()).toBe(200);
    expect(issue()).toMatchObject({ state: "closed" });
  }, 120_000);
});
