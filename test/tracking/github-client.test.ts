import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { githubClients } from "../../shared/tracking/github-client.js";
import { isTransientGitHubError, octokitIssueTracker } from "../../shared/tracking/issue-tracker.js";
import { FakeGitHub } from "../support/fake-github.js";

const repo = { owner: "acme", repo: "app" };
const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

let github: FakeGitHub;
const logs: string[] = [];
const tracker = (retries = 3) =>
  octokitIssueTracker(
    githubClients(
      { apiUrl: github.url, webUrl: "https://github.com", token: "test-github-token" },
      { log: (m) => logs.push(m), timeScale: 0.01, retries },
    ),
  );

beforeAll(async () => {
  github = await FakeGitHub.start({ app: { id: 123, publicKey: keys.publicKey } });
}, 30_000);
afterAll(async () => github?.stop());
beforeEach(() => {
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
});

describe("the GitHub client against the OpenAPI-checked fake", () => {
  it("creates, lists, updates, comments and reacts with requests GitHub's description accepts", async () => {
    const t = tracker();
    const created = await t.create(repo, {
      title: "t",
      body: "b",
      labels: ["portcullis", "security"],
      assignees: [],
    });
    await t.update(repo, created.number, { body: "b2", state: "closed" });
    await t.comment(repo, created.number, "hello");
    const listed = await t.listTracked(repo);
    expect(listed).toEqual([
      expect.objectContaining({
        number: created.number,
        state: "closed",
        body: "b2",
        stateReason: "completed",
      }),
    ]);
    expect(await t.recentComments(repo, created.number)).toEqual(["hello"]);
    const person = github.commentAsPerson(github.issues[0]!, "/portcullis rescan");
    await t.react(repo, person.id, "+1");
    expect(person.reactions).toEqual(["+1"]);
    expect(github.problems).toEqual([]);
  });

  it("pages through more than a hundred tracked issues", async () => {
    const t = tracker();
    for (let i = 0; i < 105; i++) github.issues.push({ ...fakeIssue(i + 1), labels: ["portcullis"] });
    expect((await t.listTracked(repo)).length).toBe(105);
    expect(github.requests.filter((r) => r.path === "/repos/acme/app/issues").length).toBe(2);
  });

  it("rejects what GitHub would reject: a wrong state value is a 422 and a recorded problem", async () => {
    const { Octokit } = await import("@octokit/rest");
    const raw = new Octokit({ auth: "test-github-token", baseUrl: github.url });
    github.issues.push(fakeIssue(1));
    await expect(
      raw.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
        ...repo,
        issue_number: 1,
        state: "finished" as "open",
      }),
    ).rejects.toMatchObject({ status: 422 });
    expect(github.problems.pop()).toMatch(/request body/);
    await expect(
      raw.request("GET /repos/{owner}/{repo}/issues", { ...repo, per_page: "lots" as unknown as number }),
    ).rejects.toMatchObject({ status: 422 });
    expect(github.problems.pop()).toMatch(/per_page/);
    const stranger = new Octokit({ auth: "wrong", baseUrl: github.url });
    await expect(stranger.rest.issues.listForRepo(repo)).rejects.toMatchObject({ status: 401 });
  });

  it("waits out a secondary rate limit on a create (nothing was written) and creates exactly one issue", async () => {
    github.inject(["secondary-rate-limit"], (method) => method === "POST");
    const created = await tracker().create(repo, {
      title: "t",
      body: "b",
      labels: ["portcullis"],
      assignees: [],
    });
    expect(created.number).toBe(1);
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
    expect(github.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([403, 201]);
  });

  for (const fault of ["429", "502", "reset", "answer-lost"] as const)
    it(`never repeats a create blind after ${fault}: a transient error for the stage, which looks the issue up first`, async () => {
      github.inject([fault], (method) => method === "POST");
      const err = await tracker()
        .create(repo, { title: "t", body: "b", labels: ["portcullis"], assignees: [] })
        .catch((e: unknown) => e);
      expect(isTransientGitHubError(err)).toBe(true);
      expect(github.requests.filter((r) => r.method === "POST")).toHaveLength(1);
      expect(github.issuesOf("acme", "app")).toHaveLength(fault === "answer-lost" ? 1 : 0);
    });

  for (const fault of ["secondary-rate-limit", "429", "502", "reset"] as const)
    it(`retries an edit (idempotent) after ${fault}`, async () => {
      github.issues.push(fakeIssue(1));
      github.inject([fault], (method) => method === "PATCH");
      await tracker().update(repo, 1, { body: "edited" });
      expect(github.issues[0]!.body).toBe("edited");
      expect(github.requests.filter((r) => r.method === "PATCH").map((r) => r.status)).toEqual([
        fault === "reset" ? 0 : fault === "secondary-rate-limit" ? 403 : Number(fault),
        200,
      ]);
    });

  it("gives up with a transient error when GitHub stays unreachable", async () => {
    await github.down();
    try {
      const err = await tracker(1)
        .listTracked(repo)
        .catch((e: unknown) => e);
      expect(isTransientGitHubError(err)).toBe(true);
    } finally {
      await github.up();
    }
  });

  it("authenticates as a GitHub App: installation per owner, token from a signed JWT", async () => {
    const t = octokitIssueTracker(
      githubClients(
        {
          apiUrl: github.url,
          webUrl: "https://github.com",
          app: { appId: "123", privateKey: keys.privateKey },
        },
        { log: () => {}, timeScale: 0.01 },
      ),
    );
    await t.create(repo, { title: "t", body: "b", labels: ["portcullis"], assignees: [] });
    await t.create(
      { owner: "acme", repo: "other" },
      { title: "t", body: "b", labels: ["portcullis"], assignees: [] },
    );
    expect(github.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /repos/acme/app/installation 200",
      expect.stringMatching(/^POST \/app\/installations\/\d+\/access_tokens 201$/),
      "POST /repos/acme/app/issues 201",
      "POST /repos/acme/other/issues 201",
    ]);
    expect(github.problems).toEqual([]);
  });
});

function fakeIssue(number: number) {
  return {
    id: 9000 + number,
    number,
    owner: "acme",
    repo: "app",
    title: `t${number}`,
    body: "",
    state: "open" as const,
    state_reason: null,
    labels: [],
    assignees: [],
    user: "portcullis-bot",
    closed_by: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    closed_at: null,
  };
}
