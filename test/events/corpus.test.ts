import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAcrWebhook } from "../../shared/hooks/acr-webhook.js";
import { parseDistributionEvents } from "../../shared/hooks/distribution.js";
import { parseEventGridEvents } from "../../shared/hooks/event-grid.js";
import { parseGhcrEvent } from "../../shared/hooks/ghcr.js";
import { parseHarborEvent } from "../../shared/hooks/harbor.js";
import type { HeaderBag } from "../../shared/hooks/headers.js";
import { MalformedEventError, type PushEvent } from "../../shared/hooks/push-event.js";
import { corpusPath } from "../support/corpus.js";

const FIXTURES = corpusPath("events");
const text = (file: string) => readFileSync(path.join(FIXTURES, file), "utf8");
const json = (file: string): unknown => JSON.parse(text(file));
/** The Harbor docs annotate some examples with whole-line `//` comments. */
const stripLineComments = (source: string) => source.replace(/^\s*\/\/.*$/gm, "");

type Parser = (body: unknown, headers: HeaderBag) => PushEvent[];
interface Case {
  parser: Parser;
  body: () => unknown;
  headers?: HeaderBag;
  /** the expected events, or an error message pattern */
  expected: PushEvent[] | RegExp;
}

const DISTRIBUTION_V2 = { "Content-Type": "application/vnd.docker.distribution.events.v2+json" };
const NGINX_DIGEST = "sha256:57a94fc99816c6aa225678b738ac40d85422e75dbb96115f1bb9b6ed77176166";
const HARBOR_DIGEST = "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4";
const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";

const acrPushed: Omit<PushEvent, "occurredAt"> = {
  eventId: "c25fdb80-ebbd-4dd0-a29c-a7349e6388f6",
  registry: "jolovcr.azurecr.io",
  repository: "samples/nginx",
  tag: "latest",
  digest: NGINX_DIGEST,
  mediaType: MANIFEST_V2,
  source: "acr-eventgrid",
};

const distributionPush: PushEvent = {
  eventId: "asdf-asdf-asdf-asdf-0",
  registry: "example.com",
  repository: "library/test",
  digest: "sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf",
  mediaType: MANIFEST_V2,
  source: "distribution",
  occurredAt: "2006-01-02T15:04:05Z",
};

const harborPush = (eventId: string, occurredAt: string): PushEvent => ({
  eventId,
  registry: "localhost",
  repository: "harbor/alpine",
  digest: HARBOR_DIGEST, // the "tag" of a push by digest is the digest itself: no tag
  source: "harbor",
  occurredAt,
});

const acrDeleted: PushEvent = {
  eventId: "6fdef14c-2594-41e8-9156-c0376eb0a190",
  registry: "jolovcr.azurecr.io",
  repository: "samples/nginx",
  digest: "sha256:57a94fc99816c6aa225678b738ac40d85422e75dbb96115f1bb9b6ed77176166",
  source: "acr-eventgrid",
  occurredAt: "2021-09-08T06:49:40.1850248Z",
  action: "delete",
};

const HARBOR_DELETED = "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14";
const harborDeleted = (eventId: string, occurredAt: string): PushEvent => ({
  eventId,
  registry: "localhost",
  repository: "harbor/alpine",
  tag: "3.8",
  digest: HARBOR_DELETED,
  source: "harbor",
  occurredAt,
  action: "delete",
});

const ghcrPush = (eventId: string): PushEvent => ({
  eventId,
  registry: "ghcr.io",
  repository: "codertocat/hello-world-npm",
  digest: "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
  mediaType: MANIFEST_V2,
  source: "ghcr",
  occurredAt: "2019-05-09T23:28:29Z",
});

/** The HTTP request from the Distribution docs: headers, blank line, body. */
function httpRequest(file: string): { headers: Record<string, string>; body: unknown } {
  const [head, ...rest] = text(file).split(/\r?\n\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of head!.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return { headers, body: JSON.parse(rest.join("\n\n")) };
}

const CASES: Record<string, Case> = {
  // Event Grid posts an array of events in either schema.
  "acr-eventgrid/image_pushed.eventgrid-schema.json": {
    parser: parseEventGridEvents,
    body: () => [json("acr-eventgrid/image_pushed.eventgrid-schema.json")],
    expected: [{ ...acrPushed, occurredAt: "2021-09-08T06:37:45.4681009Z" }],
  },
  "acr-eventgrid/image_pushed.cloudevents-schema.json": {
    parser: parseEventGridEvents,
    body: () => [json("acr-eventgrid/image_pushed.cloudevents-schema.json")],
    expected: [{ ...acrPushed, occurredAt: "2021-09-08T06:37:45.4681009Z" }],
  },
  // Deletes are parsed for tracking (never scanned): the digest that left the registry.
  "acr-eventgrid/image_deleted.eventgrid-schema.json": {
    parser: parseEventGridEvents,
    body: () => [json("acr-eventgrid/image_deleted.eventgrid-schema.json")],
    expected: [acrDeleted],
  },
  // This example spells CloudEvents' `specversion` as `specVersion`: the event is read all the same.
  "acr-eventgrid/image_deleted.cloudevents-schema.json": {
    parser: parseEventGridEvents,
    body: () => [json("acr-eventgrid/image_deleted.cloudevents-schema.json")],
    expected: [acrDeleted],
  },
  "acr-webhook/push.json": {
    parser: parseAcrWebhook,
    body: () => json("acr-webhook/push.json"),
    // The docs redact the digest ("sha256:xxxx…"): not a digest, so the tag names the image.
    expected: [
      {
        eventId: "cb8c3971-9adc-488b-xxxx-43cbb4974ff5",
        registry: "myregistry.azurecr.io",
        repository: "hello-world",
        tag: "v1",
        mediaType: MANIFEST_V2,
        source: "acr-webhook",
        occurredAt: "2023-11-17T16:52:01.343145347Z",
      },
    ],
  },
  // The docs redact the digest and a delete names no tag: nothing says which image left.
  "acr-webhook/delete.json": {
    parser: parseAcrWebhook,
    body: () => json("acr-webhook/delete.json"),
    expected: /acr-webhook event: delete of hello-world names neither a tag nor a valid digest/,
  },
  "acr-webhook/chart_push.json": {
    parser: parseAcrWebhook,
    body: () => json("acr-webhook/chart_push.json"),
    expected: [],
  },
  "acr-webhook/chart_delete.json": {
    parser: parseAcrWebhook,
    body: () => json("acr-webhook/chart_delete.json"),
    expected: [],
  },
  // One manifest push and two blob pushes: only the manifest counts.
  "distribution/envelope-push.json": {
    parser: parseDistributionEvents,
    body: () => json("distribution/envelope-push.json"),
    headers: DISTRIBUTION_V2,
    expected: [distributionPush],
  },
  "distribution/envelope-http-request.txt": {
    parser: parseDistributionEvents,
    body: () => httpRequest("distribution/envelope-http-request.txt").body,
    headers: httpRequest("distribution/envelope-http-request.txt").headers,
    expected: [distributionPush],
  },
  "distribution/event-pull.json": {
    parser: parseDistributionEvents,
    body: () => json("distribution/event-pull.json"),
    headers: { "content-type": "application/vnd.docker.distribution.events.v1+json" },
    expected: [],
  },
  // The registry's /debug/vars output, not a notification.
  "distribution/endpoint-metrics.json": {
    parser: parseDistributionEvents,
    body: () => json("distribution/endpoint-metrics.json"),
    headers: DISTRIBUTION_V2,
    expected: /distribution event: .*events/,
  },
  "harbor/push_artifact.default.json": {
    parser: parseHarborEvent,
    body: () => json("harbor/push_artifact.default.json"),
    expected: [harborPush(`1680501893:harbor/alpine:${HARBOR_DIGEST}`, "2023-04-03T06:04:53.000Z")],
  },
  "harbor/delete_artifact.default.json": {
    parser: parseHarborEvent,
    body: () => json("harbor/delete_artifact.default.json"),
    expected: [
      harborDeleted(`delete:1680502598:harbor/alpine:${HARBOR_DELETED}`, "2023-04-03T06:16:38.000Z"),
    ],
  },
  "harbor/delete_artifact.cloudevents.json": {
    parser: parseHarborEvent,
    body: () => json("harbor/delete_artifact.cloudevents.json"),
    expected: [harborDeleted("343f1623-7cba-487c-88f1-c5ebf55e93aa", "2023-04-03T06:16:38Z")],
  },
  "harbor/push_artifact.cloudevents.jsonc": {
    parser: parseHarborEvent,
    body: () => JSON.parse(stripLineComments(text("harbor/push_artifact.cloudevents.jsonc"))),
    expected: [harborPush("66e18103-09c1-41f6-982f-37df223f3eeb", "2023-04-03T06:04:46Z")],
  },
  // Not JSON even without its comments (a comma is missing upstream): the body reaches us as text.
  "harbor/pull_artifact.cloudevents.jsonc": {
    parser: parseHarborEvent,
    body: () => stripLineComments(text("harbor/pull_artifact.cloudevents.jsonc")),
    expected: /harbor event: /,
  },
  ...Object.fromEntries(
    [
      "pull_artifact.default.json",
      "quota_exceed.default.json",
      "quota_exceed.cloudevents.json",
      "quota_warning.default.json",
      "quota_warning.cloudevents.json",
      "replication.default.json",
      "replication.cloudevents.json",
      "scanning_completed.default.json",
      "scanning_completed.cloudevents.json",
      "scanning_failed.default.json",
      "scanning_failed.cloudevents.json",
      "scanning_stopped.default.json",
      "scanning_stopped.cloudevents.json",
      "tag_retention.default.json",
      "tag_retention.cloudevents.json",
    ].map((f) => [
      `harbor/${f}`,
      { parser: parseHarborEvent, body: () => json(`harbor/${f}`), expected: [] },
    ]),
  ),
  "github/registry_package/published.docker.payload.json": {
    parser: parseGhcrEvent,
    body: () => json("github/registry_package/published.docker.payload.json"),
    headers: { "X-GitHub-Event": "registry_package" },
    expected: [ghcrPush("registry_package:57755791:published")],
  },
  "github/package/published.docker.payload.json": {
    parser: parseGhcrEvent,
    body: () => json("github/package/published.docker.payload.json"),
    headers: new Headers({
      "X-GitHub-Event": "package",
      "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }),
    expected: [ghcrPush("72d3162e-cc78-11e3-81ab-4c9367dc0958")],
  },
};

/** GitHub's issue and ping events go to the same endpoint: no push in them. */
function githubOtherEvents(): [string, Case][] {
  const out: [string, Case][] = [];
  for (const event of ["issues", "issue_comment", "ping"]) {
    for (const file of readdirSync(path.join(FIXTURES, "github", event))) {
      const rel = `github/${event}/${file}`;
      out.push([
        rel,
        { parser: parseGhcrEvent, body: () => json(rel), headers: { "x-github-event": event }, expected: [] },
      ]);
    }
  }
  return out;
}

const ALL_CASES: [string, Case][] = [...Object.entries(CASES), ...githubOtherEvents()];

function listFixtures(dir = FIXTURES, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFixtures(full, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

describe("push-event corpus", () => {
  it("has a case for every payload file (signature vectors and provenance aside)", () => {
    const payloads = listFixtures().filter((f) => !/PROVENANCE\.md$|signature-test-vectors\.json$/.test(f));
    expect(ALL_CASES.map(([file]) => file).sort()).toEqual(payloads.sort());
  });

  it.each(ALL_CASES)("%s", (_file, c) => {
    const run = () => c.parser(c.body(), c.headers ?? {});
    if (c.expected instanceof RegExp) {
      expect(run).toThrow(MalformedEventError);
      expect(run).toThrow(c.expected);
    } else {
      expect(run()).toEqual(c.expected);
    }
  });
});
