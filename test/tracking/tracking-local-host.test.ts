import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SettingsSchema } from "../../shared/composition/settings.js";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import { writeTestDb } from "../pipeline/test-db.js";
import { hostNotifications, testHostOptions, waitForVerdict } from "../pipeline/support/local-host-api.js";
import { corpusPath } from "../support/corpus.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { FakeGitHub } from "../support/fake-github.js";
import { webhookPayloadProblems } from "../support/github-webhook-schema.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";

/**
 * Tracking on the local host as `portcullis serve` runs it: its SQLite tables, queues and blobs, the real
 * Distribution registry notifying the host, skopeo pushing the real Debian image, GitHub settings
 * pointing at the OpenAPI-checked fake GitHub.
 */
let image: DebianTestImage;
let host: LocalHost;
let registry: RegistryServer;
let github: FakeGitHub;
let dataDir: string;
const logs: string[] = [];
const SECRET = "local-host-webhook-secret";

beforeAll(async () => {
  image = await buildDebianTestImage();
  github = await FakeGitHub.start();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-tracking-host-"));
  const policy = path.join(dataDir, "portcullis.yaml");
  await writeFile(
    policy,
    "tracking:\n  repositories:\n    - images: ['library/**']\n      github: acme/app\n",
  );
  host = await startLocalHost({
    ...testHostOptions(dataDir, logs),
    settings: SettingsSchema.parse({
      PORTCULLIS_POLICY: policy,
      PORTCULLIS_GITHUB_TOKEN: "test-github-token",
      PORTCULLIS_GITHUB_API_URL: github.url,
      PORTCULLIS_GITHUB_WEBHOOK_SECRET: SECRET,
    }),
  });
  await writeTestDb(host.pipeline.blobs);
  registry = await startRegistry({ notifications: hostNotifications(host) });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await host?.stop();
  await github?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${logs.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForGate(ref: string, status: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await fetch(`${host.url}/api/gate?image=${encodeURIComponent(ref)}`);
    await res.arrayBuffer();
    if (res.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`gate of ${ref} stayed ${res.status}\n${logs.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("GitHub tracking on the local host", () => {
  it("opens exactly one issue for a vulnerable push, writes nothing for the same image pushed again, and lets a signed /portcullis accept change the gate and close the issue", async () => {
    await pushImage(image.ociAmd64Ref, `${registry.host}/library/debian:bookworm`);
    const digest = image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest;
    const verdict = await waitForVerdict(host, `${registry.host}/library/debian@${digest}`, { logs });
    expect(verdict.status).toBe(403);
    const issue = await until("the issue", () => github.issuesOf("acme", "app")[0]);
    expect(issue.title).toBe(`Vulnerable image: ${registry.host}/library/debian`);
    expect(issue.body).toContain("CVE-2099-0002");
    expect(issue.body).toContain("apt-get update && apt-get install -y --only-upgrade jq libjq1");

    // the same image under a second tag: tracking runs, and finds nothing to write
    const key = `${registry.host}/library/debian`;
    const unchanged = () => logs.filter((l) => l === `tracking ${key}: unchanged`).length;
    const issueWrites = () =>
      github.writes(/^(POST|PATCH) \/repos\/acme\/app\/issues(\/\d+)?(\/comments)?$/).length;
    const writes = issueWrites();
    const seen = unchanged();
    await pushImage(image.ociAmd64Ref, `${registry.host}/library/debian:stable`);
    await until("tracking of the second tag", () => (unchanged() > seen ? true : undefined));
    expect(issueWrites()).toBe(writes);
    expect(github.issuesOf("acme", "app")).toHaveLength(1);

    // a maintainer accepts the risk from the issue: the verdict, the gate and the issue follow
    const comment = github.commentAsPerson(
      issue,
      "/portcullis accept CVE-2099-0002 until 2099-12-31 not reachable",
    );
    const payload = JSON.parse(
      readFileSync(corpusPath("events", "github", "issue_comment", "created.payload.json"), "utf8"),
    );
    Object.assign(payload.repository, { name: "app", full_name: "acme/app" });
    payload.repository.owner.login = "acme";
    payload.issue.number = issue.number;
    Object.assign(payload.comment, { id: comment.id, body: comment.body, author_association: "MEMBER" });
    expect(webhookPayloadProblems("issue-comment-created", payload)).toEqual([]);
    const body = JSON.stringify(payload);
    const send = async (secret: string) =>
      fetch(`${host.url}/api/hooks/github`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "issue_comment",
          "x-github-delivery": "local-host-delivery-1",
          "x-hub-signature-256": await sign(secret, body),
        },
      });
    expect((await send("wrong-secret")).status).toBe(401);
    expect((await send(SECRET)).status).toBe(202);
    expect((await send(SECRET)).status).toBe(200);
    expect(comment.reactions).toEqual(["+1"]);
    await waitForGate(`${registry.host}/library/debian@${digest}`, 200);
    await until("the issue closed", () => (issue.state === "closed" ? true : undefined));
    expect(issue.state_reason).toBe("completed");
    expect(issue.body).toMatch(/### Accepted or suppressed[\s\S]*CVE-2099-0002 \| jq \| accepted-risk/);
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
    expect(github.problems).toEqual([]);
  }, 600_000);

  it("closes the stream's issue when the real registry deletes the manifest and notifies the host, without a scan", async () => {
    await pushImage(image.ociAmd64Ref, `${registry.host}/library/gone:1`);
    const digest = image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest;
    await waitForVerdict(host, `${registry.host}/library/gone@${digest}`, { logs });
    const title = `Vulnerable image: ${registry.host}/library/gone`;
    const issue = await until("the issue", () =>
      github.issuesOf("acme", "app").find((i) => i.title === title),
    );
    expect(issue.state).toBe("open");
    const scans = logs.filter((l) => /^push distribution: .*library\/gone/.test(l)).length;

    // what an operator does: delete the manifest by digest; the registry notifies the host
    const deleted = await fetch(`http://${registry.host}/v2/library/gone/manifests/${digest}`, {
      method: "DELETE",
    });
    await deleted.arrayBuffer();
    expect(deleted.status).toBe(202);
    await until("the issue closed", () => (issue.state === "closed" ? true : undefined));
    expect(issue.state_reason).toBe("completed");
    // the close is written before its comment: wait for both
    await until("the close comment", () =>
      github.commentsOn(issue).some((c) => /deleted from the registry/.test(c.body)) ? true : undefined,
    );
    expect(
      logs.some((l) => l.startsWith(`delete distribution: ${registry.host}/library/gone@${digest}`)),
    ).toBe(true);
    expect(logs.filter((l) => /^push distribution: .*library\/gone/.test(l))).toHaveLength(scans);
    expect(github.problems).toEqual([]);
  }, 600_000);
});
