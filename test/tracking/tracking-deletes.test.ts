import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { debianLayer, REGISTRY } from "../pipeline/fake-registry.js";
import { TrackingConfigSchema } from "../../shared/policy/tracking-config.js";
import { listLedger } from "../../shared/tracking/tracking-ledger.js";
import { corpusPath } from "../support/corpus.js";
import { FakeGitHub } from "../support/fake-github.js";
import { type TrackedPipeline, trackedPipeline, VULNERABLE } from "./tracked-pipeline.js";

/**
 * Registry delete events on the pipeline: each sender's real payload (from the corpus, moved onto
 * our image the way the GitHub payloads are moved onto our issue) reaches tracking, closes the
 * stream's issue, and never starts a scan.
 */
let github: FakeGitHub;
let t: TrackedPipeline | undefined;

beforeAll(async () => {
  github = await FakeGitHub.start();
}, 30_000);
afterAll(async () => github?.stop());
afterEach(async () => {
  await t?.p.stop();
  t = undefined;
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  expect(github.problems).toEqual([]);
});

// biome-ignore lint/suspicious/noExplicitAny: corpus payloads are edited field by field
type Payload = Record<string, any>;
const corpus = (file: string): Payload =>
  JSON.parse(readFileSync(corpusPath("events", file), "utf8")) as Payload;

/** Each sender's delete of `digest` in team/app, as its route receives it. */
const DELETES: [string, string, (digest: string) => unknown][] = [
  [
    "ACR Event Grid ImageDeleted (Event Grid schema)",
    "/api/hooks/eventgrid",
    (digest) => {
      const event = corpus("acr-eventgrid/image_deleted.eventgrid-schema.json");
      Object.assign(event.data.target, { digest, repository: "team/app" });
      event.data.request.host = REGISTRY;
      return [event];
    },
  ],
  [
    "ACR Event Grid ImageDeleted (CloudEvents schema, spelled specVersion)",
    "/api/hooks/eventgrid",
    (digest) => {
      const event = corpus("acr-eventgrid/image_deleted.cloudevents-schema.json");
      expect(event.specVersion).toBe("1.0");
      Object.assign(event.data.target, { digest, repository: "team/app" });
      event.data.request.host = REGISTRY;
      return event;
    },
  ],
  [
    "ACR webhook delete",
    "/api/hooks/acr",
    (digest) => {
      const event = corpus("acr-webhook/delete.json");
      Object.assign(event.target, { digest, repository: "team/app" });
      event.request.host = REGISTRY;
      return event;
    },
  ],
  [
    "Harbor DELETE_ARTIFACT (default format)",
    "/api/hooks/harbor",
    (digest) => {
      const event = corpus("harbor/delete_artifact.default.json");
      onOurHarborImage(event.event_data, digest);
      return event;
    },
  ],
  [
    "Harbor harbor.artifact.deleted (CloudEvents format)",
    "/api/hooks/harbor",
    (digest) => {
      const event = corpus("harbor/delete_artifact.cloudevents.json");
      onOurHarborImage(event.data, digest);
      return event;
    },
  ],
  [
    "Distribution manifest delete",
    "/api/hooks/distribution",
    // what registry:2 sends for DELETE /v2/<name>/manifests/<digest>: no media type, no tag, no url
    (digest) => ({
      events: [
        {
          id: `delete-${digest.slice(7, 19)}`,
          timestamp: new Date().toISOString(),
          action: "delete",
          target: { digest, repository: "team/app" },
          request: { id: "r1", addr: "127.0.0.1:5555", host: REGISTRY, method: "DELETE", useragent: "curl" },
          actor: {},
          source: { addr: "127.0.0.1:5000", instanceID: "i" },
        },
      ],
    }),
  ],
];

function onOurHarborImage(data: Payload, digest: string): void {
  Object.assign(data.resources[0], { digest, tag: "latest", resource_url: `${REGISTRY}/team/app:latest` });
  data.repository.repo_full_name = "team/app";
}

const issue = () => github.issuesOf("acme", "app")[0]!;

let tagDeletes = 0;
/** What Distribution 3 sends for `DELETE /v2/<name>/manifests/<tag>` (notifications/bridge.go TagDeleted): the target names only the repository and the tag. */
const tagDelete = (tag: string, at = new Date()) => ({
  events: [
    {
      id: `tag-delete-${process.pid}-${++tagDeletes}`,
      timestamp: at.toISOString(),
      action: "delete",
      target: { repository: "team/app", tag },
      request: { id: "r2", addr: "127.0.0.1:5556", host: REGISTRY, method: "DELETE", useragent: "regctl" },
      actor: {},
      source: { addr: "127.0.0.1:5000", instanceID: "i" },
    },
  ],
});

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe("registry delete events on tracking", () => {
  it.each(DELETES)(
    "%s closes the stream's issue, scans nothing, and is taken once",
    async (_, route, body) => {
      t = await trackedPipeline(github);
      const digest = await t.push("team/app", "latest", VULNERABLE);
      expect(issue()).toMatchObject({ state: "open" });
      const scans = t.p.deliveries["scan-requests"];

      const answer = await t.hook(route, body(digest));
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ accepted: [], deleted: { tracked: 1, ignored: 0 } });
      expect(t.p.deliveries["scan-requests"]).toBe(scans);
      expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });
      expect(github.commentsOn(issue()).at(-1)!.body).toMatch(/deleted from the registry/);

      // the same delivery again: a duplicate, nothing written
      const writes = github.writes().length;
      const again = await t.hook(route, body(digest));
      expect(again.body).toMatchObject({ duplicates: 1 });
      expect(github.writes().length).toBe(writes);
      expect(github.issuesOf("acme", "app")).toHaveLength(1);
    },
    120_000,
  );

  it("leaves the issue alone when the deleted digest is not the stream's current image, and reopens it when the image is pushed again", async () => {
    t = await trackedPipeline(github);
    const old = await t.push("team/app", "latest", VULNERABLE);
    const current = await t.push("team/app", "latest", { ...VULNERABLE, zlib1g: "1" });
    const [, route, distributionDelete] = DELETES.at(-1)!;
    github.requests.length = 0;
    await t.hook(route, distributionDelete(old));
    expect(github.writes()).toEqual([]);
    expect(issue()).toMatchObject({ state: "open" });

    await t.hook(route, distributionDelete(current));
    expect(issue()).toMatchObject({ state: "closed" });
    await t.notify("team/app", "latest", current);
    await t.idle();
    expect(issue()).toMatchObject({ state: "open", state_reason: "reopened" });
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
  }, 120_000);

  it("a tag-only delete (Distribution 3) ends what the tag named: the stream's issue closes, scans nothing, is taken once, and the tag pushed again reopens it", async () => {
    t = await trackedPipeline(github);
    const digest = await t.push("team/app", "latest", VULNERABLE);
    const scans = t.p.deliveries["scan-requests"];
    const event = tagDelete("latest");
    const answer = await t.hook("/api/hooks/distribution", event);
    expect(answer).toMatchObject({ status: 202, body: { deleted: { tracked: 1, ignored: 0 } } });
    expect(t.p.deliveries["scan-requests"]).toBe(scans);
    expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(github.commentsOn(issue()).at(-1)!.body).toMatch(/deleted from the registry/);

    const writes = github.writes().length;
    expect((await t.hook("/api/hooks/distribution", event)).body).toMatchObject({ duplicates: 1 });
    expect(github.writes().length).toBe(writes);

    await t.notify("team/app", "latest", digest);
    await t.idle();
    expect(issue()).toMatchObject({ state: "open", state_reason: "reopened" });
    expect(github.issuesOf("acme", "app")).toHaveLength(1);
  }, 120_000);

  it("a tag-only delete leaves an image another tag still names, and a tag that named nothing writes nothing", async () => {
    t = await trackedPipeline(github);
    const digest = await t.push("team/app", "latest", VULNERABLE);
    await t.notify("team/app", "stable", digest);
    await t.idle();
    github.requests.length = 0;
    await t.hook("/api/hooks/distribution", tagDelete("latest"));
    await t.hook("/api/hooks/distribution", tagDelete("never-pushed"));
    expect(github.writes()).toEqual([]);
    expect(issue()).toMatchObject({ state: "open" });

    await t.hook("/api/hooks/distribution", tagDelete("stable"));
    expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });
  }, 120_000);

  it("a tag-only delete older than the tag's latest push leaves the image that tag names now", async () => {
    t = await trackedPipeline(github);
    const before = new Date(Date.now() - 60_000);
    await t.push("team/app", "latest", VULNERABLE);
    github.requests.length = 0;
    await t.hook("/api/hooks/distribution", tagDelete("latest", before));
    expect(github.writes()).toEqual([]);
    expect(issue()).toMatchObject({ state: "open" });
  }, 120_000);

  it("a tag-only delete reaches only the tag stream the tag belongs to", async () => {
    t = await trackedPipeline(github, {
      tracking: {
        config: TrackingConfigSchema.parse({
          tagStreams: [{ name: "1.x", tags: ["1.*"] }],
          repositories: [{ images: ["team/**"], github: "acme/app" }],
        }),
      },
    });
    await t.push("team/app", "1.0", VULNERABLE);
    await t.push("team/app", "latest", { ...VULNERABLE, zlib1g: "1" });
    const issues = () => github.issuesOf("acme", "app");
    expect(issues().map((i) => i.title)).toEqual([
      expect.stringMatching(/team\/app \(1\.x\)$/),
      expect.stringMatching(/team\/app$/),
    ]);
    await t.hook("/api/hooks/distribution", tagDelete("1.0"));
    expect(issues().map((i) => i.state)).toEqual(["closed", "open"]);
  }, 120_000);

  it("deleting an index by its own digest takes its platform images out of the stream and closes the issue", async () => {
    t = await trackedPipeline(github);
    const layer = (arch: string) => debianLayer(VULNERABLE, `index-${arch}-${process.pid}`);
    const images = t.p.registry.push("team/app", "multi", [
      { platform: { os: "linux", architecture: "amd64" }, layers: [await layer("amd64")] },
      { platform: { os: "linux", architecture: "arm64" }, layers: [await layer("arm64")] },
    ]);
    const index = images[0]!.indexDigest!;
    await t.notify("team/app", "multi", index);
    await t.idle();
    expect(issue()).toMatchObject({ state: "open" });
    for (const image of images) expect(issue().body).toContain(image.identity.digest);
    const scans = t.p.deliveries["scan-requests"];

    const [, route, distributionDelete] = DELETES.at(-1)!;
    const answer = await t.hook(route, distributionDelete(index));
    expect(answer.body).toMatchObject({ deleted: { tracked: 1 } });
    expect(t.p.deliveries["scan-requests"]).toBe(scans);
    expect(issue()).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(github.commentsOn(issue()).at(-1)!.body).toMatch(/deleted from the registry/);
    const [row] = await collect(listLedger(t.p.tables));
    expect(row?.entry).toMatchObject({ images: {}, deleted: true });
  }, 120_000);

  it.each([
    [
      "a delete with a digest that is not one",
      { digest: "sha256:xyz", repository: "team/app" },
      /valid digest/,
    ],
    ["a delete without a repository", { digest: `sha256:${"a".repeat(64)}` }, /repository/],
  ])(
    "refuses %s with the reason",
    async (_, target, reason) => {
      t = await trackedPipeline(github);
      const answer = await t.hook("/api/hooks/distribution", {
        events: [{ id: "bad-1", action: "delete", target, request: { host: REGISTRY } }],
      });
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toMatch(reason);
    },
    60_000,
  );
});
