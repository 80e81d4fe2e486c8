import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { TABLES } from "../../shared/stages/tables.js";
import { githubClients } from "../../shared/tracking/github-client.js";
import { octokitIssueTracker } from "../../shared/tracking/issue-tracker.js";
import { TrackingConfigSchema } from "../../shared/policy/tracking-config.js";
import { listLedger } from "../../shared/tracking/tracking-ledger.js";
import type { TrackingSetup } from "../../shared/tracking/tracking-setup.js";
import { debianLayer, REGISTRY } from "../pipeline/fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "../pipeline/memory-pipeline.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";
import { FakeGitHub } from "../support/fake-github.js";
import { retryFrom } from "./tracked-pipeline.js";

/**
 * Tracking on the real stages (intake → resolve → layer analysis → matching → verdict → tracking)
 * over the memory bus and tables, against the OpenAPI-checked fake GitHub.
 */
let github: FakeGitHub;
let p: MemoryPipeline | undefined;
let eventNo = 0;

beforeAll(async () => {
  github = await FakeGitHub.start();
}, 30_000);
afterAll(async () => github?.stop());
afterEach(async () => {
  await p?.stop();
  p = undefined;
  github.issues.length = 0;
  github.comments.length = 0;
  github.requests.length = 0;
  expect(github.problems).toEqual([]);
});

const VULNERABLE = { demo: "1.0-1", jq: "1.6-2.1" };
const DEMO_FIXED = { demo: "1.0-2", jq: "1.6-2.1" };
const ALL_FIXED = { demo: "1.0-2", jq: "1.6-2.1+deb12u3" };

function setup(extra: Partial<TrackingSetup> = {}): TrackingSetup {
  return {
    tracker: octokitIssueTracker(
      githubClients(
        { apiUrl: github.url, webUrl: "https://github.com", token: "test-github-token" },
        { log: () => {}, timeScale: 0.001 },
      ),
    ),
    config: TrackingConfigSchema.parse({ repositories: [{ images: ["team/**"], github: "acme/app" }] }),
    webUrl: "https://github.com",
    intentLeaseMs: 0,
    retry: retryFrom(),
    ...extra,
  };
}

async function start(extra: Partial<TrackingSetup> = {}, tables?: (t: TableStore) => TableStore) {
  p = await memoryPipeline();
  p.deps.tracking = setup(extra);
  if (tables) p.deps.tables = tables(p.deps.tables);
  p.http.dedupeWindowSeconds = 0;
  p.start();
  return p;
}

/** Pushes an image with these Debian packages under repository:tag and waits until tracking is done. */
async function push(repository: string, tag: string, packages: Record<string, string>) {
  const layer = await debianLayer(packages, `build-${++buildNo}`);
  const [image] = p!.registry.push(repository, tag, [{ layers: [layer] }]);
  await notify(repository, tag, image!.identity.digest);
  await p!.bus.idle({ timeoutMs: 60_000 });
  return image!.identity.digest;
}

/** An image already in the registry pushed again under a tag. */
async function pushAgain(repository: string, tag: string, digest: string) {
  await notify(repository, tag, digest);
  await p!.bus.idle({ timeoutMs: 60_000 });
}

let buildNo = 0;

async function notify(repository: string, tag: string, digest: string) {
  const answer = await dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(REGISTRY, repository, tag, digest, `evt-${++eventNo}`),
      headers: {
        ...bearer(HOOK_TOKEN),
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
    }),
    p!.http,
  );
  expect(answer.status).toBe(202);
}

const issues = () => github.issuesOf("acme", "app");
const writes = () => github.writes().map((r) => `${r.method} ${r.path.replace(/^\/repos\/acme\/app/, "")}`);

describe("GitHub tracking on the pipeline", () => {
  it("opens one issue for a vulnerable push, writes nothing for the same findings, edits and comments on a fix, closes, reopens", async () => {
    await start();
    const first = await push("team/app", "latest", VULNERABLE);
    expect(issues()).toHaveLength(1);
    const issue = issues()[0]!;
    expect(issue.title).toBe(`Vulnerable image: ${REGISTRY}/team/app`);
    expect(issue.labels).toEqual(["portcullis", "security", "severity:critical"]);
    expect(issue.body).toContain("| critical | CVE-2099-0001 | demo | 1.0-1 | 1.0-2 |");
    expect(issue.body).toContain("| critical | CVE-2099-0002 | jq | 1.6-2.1 | 1.6-2.1+deb12u3 |");
    // one layer, so both packages come with the base image: the action is a rebuild
    expect(issue.body).toContain("### Rebuild on a newer base image");
    expect(writes()).toEqual(["POST /issues"]);

    // the same image pushed again, and delivered twice: nothing to write
    github.requests.length = 0;
    await pushAgain("team/app", "stable", first);
    await pushAgain("team/app", "latest", first);
    expect(writes()).toEqual([]);
    // the same findings in a new image: the body names the new digest, no comment
    await push("team/app", "latest", VULNERABLE);
    expect(writes()).toEqual(["PATCH /issues/1"]);

    github.requests.length = 0;
    await push("team/app", "latest", DEMO_FIXED);
    expect(writes()).toEqual(["PATCH /issues/1", "POST /issues/1/comments"]);
    const comment = github.commentsOn(issue).at(-1)!;
    expect(comment.body).toMatch(/Fixed: `CVE-2099-0001` \(demo\)/);
    expect(issue.body).not.toContain("CVE-2099-0001");

    github.requests.length = 0;
    await push("team/app", "latest", ALL_FIXED);
    expect(issue).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(writes()).toEqual(["PATCH /issues/1", "POST /issues/1/comments"]);

    github.requests.length = 0;
    await push("team/app", "latest", VULNERABLE);
    expect(issue).toMatchObject({ state: "open", state_reason: "reopened" });
    expect(github.commentsOn(issue).at(-1)!.body).toMatch(/Introduced: `CVE-2099-0001` \(demo\)/);
    expect(issues()).toHaveLength(1);
  }, 120_000);

  it("follows a tag moved back to an already-scanned digest, using the stored verdict", async () => {
    await start();
    const vulnerable = await push("team/app", "latest", VULNERABLE);
    const fixed = await push("team/app", "latest", ALL_FIXED);
    expect(issues()[0]).toMatchObject({ state: "closed" });
    await pushAgain("team/app", "latest", vulnerable); // the old digest again: no new scan, the stream moves
    expect(p!.deliveries["layer-analysis"]).toBe(2);
    expect(issues()[0]).toMatchObject({ state: "open" });
    await pushAgain("team/app", "latest", fixed);
    expect(issues()[0]).toMatchObject({ state: "closed" });
    expect(issues()).toHaveLength(1);
  }, 120_000);

  it("keeps an issue a person closed closed until a new finding appears", async () => {
    await start();
    await push("team/app", "latest", { jq: "1.6-2.1" });
    github.closeAsPerson(issues()[0]!);
    // the webhook would tell us; without it the ledger learns at adoption — here we tell it like the hook does
    const { recordPersonClosed } = await import("../../shared/hooks/github-issue-events.js");
    await recordPersonClosed(p!.deps.tables, { owner: "acme", repo: "app", number: 1 });
    github.requests.length = 0;
    await push("team/app", "latest", { jq: "1.6-2.1", zlib1g: "1" });
    expect(writes()).toEqual([]);
    expect(issues()[0]).toMatchObject({ state: "closed" });
    await push("team/app", "latest", VULNERABLE);
    expect(issues()[0]).toMatchObject({ state: "open" });
    expect(github.commentsOn(issues()[0]!).at(-1)!.body).toMatch(/new finding/);
  }, 120_000);

  it("rebuilds a lost ledger from the issues' markers, every stream of the repository at once, without a duplicate or a write", async () => {
    await start();
    const digest = await push("team/app", "latest", VULNERABLE);
    const web = await push("team/web", "latest", VULNERABLE);
    expect(issues()).toHaveLength(2);
    // the ledger lost: every row of the table
    for await (const row of p!.tables.query(TABLES.tracking, {}))
      await p!.tables.delete(TABLES.tracking, row.partitionKey, row.rowKey);
    github.requests.length = 0;
    await pushAgain("team/app", "stable", digest);
    expect(issues()).toHaveLength(2);
    expect(writes()).toEqual([]);
    const rows = await collect(listLedger(p!.tables));
    expect(rows.map((r) => [r.key, r.entry.issueNumber, r.entry.issueState])).toEqual([
      [`${REGISTRY}/team/app`, 1, "open"],
      [`${REGISTRY}/team/web`, 2, "open"],
    ]);

    // a delete of an image the rebuilt team/web row cannot know of leaves its issue alone
    p!.http.tracking = p!.deps.tracking;
    const deleted = await dispatch(
      request("POST", "/api/hooks/distribution", {
        body: JSON.stringify({
          events: [
            {
              id: `evt-${++eventNo}`,
              action: "delete",
              timestamp: new Date().toISOString(),
              target: { repository: "team/web", digest: `sha256:${"e".repeat(64)}` },
              request: { host: REGISTRY },
            },
          ],
        }),
        headers: {
          ...bearer(HOOK_TOKEN),
          "content-type": "application/vnd.docker.distribution.events.v2+json",
        },
      }),
      p!.http,
    );
    expect(deleted.body).toMatchObject({ deleted: { tracked: 1 } });
    await p!.bus.idle({ timeoutMs: 60_000 });
    expect(issues().map((i) => i.state)).toEqual(["open", "open"]);

    // the other stream was rebuilt with it: its next verdict neither looks up nor writes
    github.requests.length = 0;
    await pushAgain("team/web", "stable", web);
    expect(github.requests).toEqual([]);
    expect(issues()).toHaveLength(2);
  }, 120_000);

  it("a new stream in a repository the ledger covers creates its issue with no look-up: one request", async () => {
    await start();
    await push("team/app", "latest", VULNERABLE);
    github.requests.length = 0;
    await push("team/web", "latest", VULNERABLE);
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /repos/acme/app/issues"]);
  }, 120_000);

  it("survives a crash between GitHub's answer and the ledger write: no duplicate issue, no duplicate comment", async () => {
    let crashes = 0;
    await start({}, (tables) => crashAfterIntent(tables, () => crashes++ < 2));
    await push("team/app", "latest", VULNERABLE);
    expect(issues()).toHaveLength(1);
    await push("team/app", "latest", DEMO_FIXED);
    expect(crashes).toBeGreaterThanOrEqual(2);
    expect(issues()).toHaveLength(1);
    expect(github.commentsOn(issues()[0]!)).toHaveLength(1);
    const [row] = await collect(listLedger(p!.tables));
    expect(row?.entry.pending).toBeNull();
  }, 120_000);

  it("lets racing and duplicated verdicts for one stream end in one issue", async () => {
    await start();
    const digests = await Promise.all([
      (async () => {
        const [image] = p!.registry.push("team/race", "a", [{ layers: [await debianLayer(VULNERABLE)] }]);
        return image!.identity.digest;
      })(),
      (async () => {
        const [image] = p!.registry.push("team/race", "b", [
          { layers: [await debianLayer({ demo: "1.0-1" })] },
        ]);
        return image!.identity.digest;
      })(),
    ]);
    await Promise.all([
      notify("team/race", "a", digests[0]),
      notify("team/race", "b", digests[1]),
      notify("team/race", "a", digests[0]),
    ]);
    await p!.bus.idle({ timeoutMs: 60_000 });
    expect(issues()).toHaveLength(1);
    expect(github.writes(/POST .*\/issues$/)).toHaveLength(1);
  }, 120_000);

  it("waits while GitHub is unreachable, without holding up the gate, then catches up with one issue", async () => {
    await start();
    await github.down();
    const [image] = p!.registry.push("team/app", "latest", [{ layers: [await debianLayer(VULNERABLE)] }]);
    await notify("team/app", "latest", image!.identity.digest);
    const deadline = Date.now() + 60_000;
    let gate = 0;
    while (Date.now() < deadline) {
      const answer = await dispatch(
        request("GET", `/api/gate?image=${REGISTRY}/team/app@${image!.identity.digest}`),
        p!.http,
      );
      gate = answer.status;
      if (gate !== 404 && gate !== 409) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(gate).toBe(403);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(p!.logs.some((l) => /trying again in/.test(l))).toBe(true);
    await github.up();
    await p!.bus.idle({ timeoutMs: 60_000 });
    expect(issues()).toHaveLength(1);
  }, 120_000);

  it("opens a new issue when the tracked one was deleted on GitHub", async () => {
    await start();
    await push("team/app", "latest", VULNERABLE);
    github.issues.splice(0, github.issues.length);
    await push("team/app", "latest", DEMO_FIXED);
    expect(issues()).toHaveLength(1);
    expect(issues()[0]).toMatchObject({ number: 1, state: "open" });
    expect(issues()[0]!.body).toContain("CVE-2099-0002");
    expect(p!.logs.some((l) => /issue #1 is gone \(404\)/.test(l))).toBe(true);
  }, 120_000);

  it("records an image that no label or mapping places as untracked, and opens nothing", async () => {
    await start();
    await push("other/app", "latest", VULNERABLE);
    expect(github.issues).toHaveLength(0);
    const [row] = await collect(listLedger(p!.tables));
    expect(row?.entry.untracked).toMatch(/no org.opencontainers.image.source label and no tracking mapping/);
    // and the image API says so
    const listed = await dispatch(
      request("GET", `/api/images?repository=${encodeURIComponent(`${REGISTRY}/other/app`)}`),
      p!.http,
    );
    const [image] = (listed.body as { images: { tracking: { untracked?: string }[] }[] }).images;
    expect(image?.tracking).toEqual([
      { stream: `${REGISTRY}/other/app`, untracked: expect.stringMatching(/no tracking mapping matches/) },
    ]);
  }, 120_000);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Tables that fail the ledger write after GitHub answered (the intent's successor) while `crash()` says so. */
function crashAfterIntent(tables: TableStore, crash: () => boolean): TableStore {
  return new Proxy(tables, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      // the store keeps #private state: its methods must run on the store itself
      if (prop !== "updateIfMatch") return typeof value === "function" ? value.bind(target) : value;
      return async (...args: Parameters<TableStore["updateIfMatch"]>) => {
        const [table, , , properties] = args;
        if (
          table === TABLES.tracking &&
          properties.pending === "null" &&
          String(properties.issueNumber) !== "0" &&
          crash()
        )
          throw new Error("simulated crash before the ledger write");
        return target.updateIfMatch(...args);
      };
    },
  });
}
