import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAcrWebhook } from "../../shared/hooks/acr-webhook.js";
import { parseDistributionEvents } from "../../shared/hooks/distribution.js";
import { parseEventGridEvents } from "../../shared/hooks/event-grid.js";
import {
  cloudEventsAbuseProtection,
  eventGridValidationResponse,
} from "../../shared/hooks/event-grid-validation.js";
import { parseGhcrEvent } from "../../shared/hooks/ghcr.js";
import { verifyGitHubSignature } from "../../shared/hooks/github-signature.js";
import { parseHarborEvent } from "../../shared/hooks/harbor.js";
import { isAuthorizedHook } from "../../shared/hooks/hook-auth.js";
import { dedupeKeys, MalformedEventError } from "../../shared/hooks/push-event.js";
import { corpusPath } from "../support/corpus.js";

const FIXTURES = corpusPath("events");
const raw = (file: string) => readFileSync(path.join(FIXTURES, file));
const json = (file: string) => JSON.parse(raw(file).toString("utf8"));
const DIGEST = "sha256:57a94fc99816c6aa225678b738ac40d85422e75dbb96115f1bb9b6ed77176166";

describe("Event Grid", () => {
  it("reads `data` given as a JSON string, and a single event outside an array", () => {
    const event = json("acr-eventgrid/image_pushed.eventgrid-schema.json");
    const stringified = { ...event, data: JSON.stringify(event.data) };
    expect(parseEventGridEvents([stringified], {})).toEqual(parseEventGridEvents(event, {}));
    expect(parseEventGridEvents(event, {})).toHaveLength(1);
  });

  it("takes several events in one delivery, pushes for scanning and deletes for tracking", () => {
    const pushed = json("acr-eventgrid/image_pushed.cloudevents-schema.json");
    const deleted = json("acr-eventgrid/image_deleted.cloudevents-schema.json");
    const second = {
      ...pushed,
      id: "second",
      data: { ...pushed.data, target: { ...pushed.data.target, tag: "v2" } },
    };
    const events = parseEventGridEvents([pushed, deleted, second], {});
    expect(events.map((e) => [e.eventId, e.tag, e.action])).toEqual([
      ["c25fdb80-ebbd-4dd0-a29c-a7349e6388f6", "latest", undefined],
      ["6fdef14c-2594-41e8-9156-c0376eb0a190", undefined, "delete"],
      ["second", "v2", undefined],
    ]);
  });

  it.each([
    ["not an array or event", "hello", /acr-eventgrid event:/],
    ["an event without a type", [{ id: "1", data: {} }], /neither eventType nor type/],
    [
      "data that is a string but not JSON",
      [{ id: "1", eventType: "Microsoft.ContainerRegistry.ImagePushed", data: "{" }],
      /data is a string but not JSON/,
    ],
    [
      "an ImagePushed without request.host",
      [
        {
          id: "1",
          type: "Microsoft.ContainerRegistry.ImagePushed",
          data: { target: { repository: "r", tag: "t" } },
        },
      ],
      /request/,
    ],
  ])("rejects %s", (_what, body, message) => {
    expect(() => parseEventGridEvents(body, {})).toThrow(MalformedEventError);
    expect(() => parseEventGridEvents(body, {})).toThrow(message);
  });

  it("answers the Event Grid schema's subscription validation with the code", () => {
    const validation = [
      {
        id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        topic: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r",
        subject: "",
        data: {
          validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
          validationUrl: "https://rp.eventgrid.azure.net/validate?id=1",
        },
        eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
        eventTime: "2018-01-25T22:12:19.4556811Z",
        metadataVersion: "1",
        dataVersion: "1",
      },
    ];
    expect(eventGridValidationResponse(validation)).toEqual({
      validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
    });
    expect(parseEventGridEvents(validation, {})).toEqual([]);
    expect(
      eventGridValidationResponse([json("acr-eventgrid/image_pushed.eventgrid-schema.json")]),
    ).toBeUndefined();
    expect(eventGridValidationResponse("nonsense")).toBeUndefined();
  });

  it("answers the CloudEvents abuse-protection OPTIONS handshake, for allowed origins only", () => {
    const headers = new Headers({ "WebHook-Request-Origin": "eventgrid.azure.net" });
    expect(cloudEventsAbuseProtection("OPTIONS", headers)).toEqual({
      status: 200,
      headers: { "WebHook-Allowed-Origin": "eventgrid.azure.net", "WebHook-Allowed-Rate": "*" },
    });
    expect(cloudEventsAbuseProtection("OPTIONS", { "webhook-request-origin": "evil.example" })).toMatchObject(
      { status: 403 },
    );
    expect(
      cloudEventsAbuseProtection(
        "OPTIONS",
        { "webhook-request-origin": "evil.example" },
        { allowedOrigins: ["*"] },
      ),
    ).toMatchObject({ status: 200 });
    expect(cloudEventsAbuseProtection("POST", headers)).toBeUndefined();
    expect(cloudEventsAbuseProtection("OPTIONS", {})).toBeUndefined();
  });
});

describe("Docker Distribution", () => {
  const envelope = () => json("distribution/envelope-push.json");

  it("takes the registry from request.host when target.url is missing", () => {
    const body = envelope();
    delete body.events[0].target.url;
    body.events[0].target.tag = "1.0";
    expect(parseDistributionEvents(body, {})[0]).toMatchObject({
      registry: "registrycluster.local",
      tag: "1.0",
    });
  });

  it("keeps the port of a registry on a non-default port", () => {
    const body = envelope();
    body.events[0].target.url = "http://127.0.0.1:5000/v2/library/test/manifests/sha256:abc";
    expect(parseDistributionEvents(body, {})[0]!.registry).toBe("127.0.0.1:5000");
  });

  it("counts OCI manifests and indexes, not schema-1 manifests", () => {
    const body = envelope();
    body.events[1].target.mediaType = "application/vnd.oci.image.index.v1+json";
    body.events[1].target.digest = DIGEST;
    body.events[2].target.mediaType = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    expect(parseDistributionEvents(body, {}).map((e) => e.eventId)).toEqual([
      "asdf-asdf-asdf-asdf-0",
      "asdf-asdf-asdf-asdf-1",
    ]);
  });

  it.each([
    ["a foreign content type", envelope, { "content-type": "text/plain" }, /unsupported content type/],
    ["no events array", () => ({ event: [] }), {}, /events/],
    [
      "a push without repository",
      () => ({
        events: [
          { id: "1", action: "push", target: { mediaType: "application/vnd.oci.image.manifest.v1+json" } },
        ],
      }),
      {},
      /repository/,
    ],
    [
      "a push naming no host",
      () => ({
        events: [
          {
            id: "1",
            action: "push",
            target: {
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              repository: "r",
              digest: DIGEST,
            },
          },
        ],
      }),
      {},
      /no registry host/,
    ],
    [
      "a manifest push with neither tag nor valid digest",
      () => ({
        events: [
          {
            id: "1",
            action: "push",
            target: {
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              repository: "r",
              digest: "sha256:nothex",
              url: "https://r.example/v2/r/manifests/x",
            },
          },
        ],
      }),
      {},
      /neither a tag nor a valid digest/,
    ],
  ])("rejects %s", (_what, body, headers, message) => {
    expect(() => parseDistributionEvents(body(), headers)).toThrow(MalformedEventError);
    expect(() => parseDistributionEvents(body(), headers)).toThrow(message);
  });
});

describe("ACR webhook", () => {
  it("rejects a push without request.host, and nonsense", () => {
    const body = json("acr-webhook/push.json");
    delete body.request;
    expect(() => parseAcrWebhook(body, {})).toThrow(/acr-webhook event: .*request/);
    expect(() => parseAcrWebhook(null, {})).toThrow(MalformedEventError);
  });

  it("ignores the ping ACR sends when a webhook is created", () => {
    expect(parseAcrWebhook({ id: "p", timestamp: "2024-01-01T00:00:00Z", action: "ping" }, {})).toEqual([]);
  });
});

describe("Harbor", () => {
  it("makes one event per pushed artifact, with the host and port from resource_url", () => {
    const body = json("harbor/push_artifact.default.json");
    body.event_data.resources = [
      { digest: DIGEST, tag: "3.19", resource_url: "harbor.example.com:8443/harbor/alpine:3.19" },
      { digest: DIGEST, tag: "latest", resource_url: "harbor.example.com:8443/harbor/alpine:latest" },
    ];
    const events = parseHarborEvent(body, {});
    expect(events.map((e) => [e.eventId, e.registry, e.tag])).toEqual([
      [`1680501893:harbor/alpine:${DIGEST}#0`, "harbor.example.com:8443", "3.19"],
      [`1680501893:harbor/alpine:${DIGEST}#1`, "harbor.example.com:8443", "latest"],
    ]);
  });

  it("rejects a push whose resource_url does not name the repository", () => {
    const body = json("harbor/push_artifact.default.json");
    body.event_data.resources[0].resource_url = "somewhere/else@sha256:x";
    expect(() => parseHarborEvent(body, {})).toThrow(/resource_url/);
    expect(() => parseHarborEvent({ type: "PUSH_ARTIFACT" }, {})).toThrow(/harbor event:/);
  });
});

describe("GHCR", () => {
  const payload = () => json("github/registry_package/published.docker.payload.json");

  it("ignores packages that are not containers and actions that are not publications", () => {
    const npm = payload();
    npm.registry_package.package_type = "npm";
    npm.registry_package.ecosystem = "npm";
    expect(parseGhcrEvent(npm, { "x-github-event": "registry_package" })).toEqual([]);
    const deleted = { ...payload(), action: "deleted" };
    expect(parseGhcrEvent(deleted, { "x-github-event": "registry_package" })).toEqual([]);
  });

  it("takes the tag from container metadata and infers the event from the body when the header is missing", () => {
    const body = payload();
    body.registry_package.package_type = "CONTAINER";
    body.registry_package.package_version.container_metadata.tag.name = "v1.2.3";
    expect(parseGhcrEvent(body, {})[0]).toMatchObject({ tag: "v1.2.3", registry: "ghcr.io" });
  });
});

describe("GitHub webhook signatures", () => {
  const vectors = json("github/signature-test-vectors.json").vectors as {
    secret: string;
    body_utf8?: string;
    body_file?: string;
    x_hub_signature_256: string;
  }[];

  it.each(vectors.map((v) => [v.body_file ?? "Hello, World!", v]))(
    "verifies the vector over %s",
    async (_label, v) => {
      const body = v.body_file ? raw(`github/${v.body_file}`) : Buffer.from(v.body_utf8!, "utf8");
      expect(await verifyGitHubSignature(v.secret, body, v.x_hub_signature_256)).toBe(true);
      expect(await verifyGitHubSignature(v.secret, body.toString("utf8"), v.x_hub_signature_256)).toBe(true);
    },
  );

  it("refuses a wrong secret, a changed body, a re-serialised body, a missing or sha1 header, and non-UTF-8 bytes", async () => {
    const v = vectors[1]!;
    const body = raw(`github/${v.body_file}`);
    expect(await verifyGitHubSignature("wrong", body, v.x_hub_signature_256)).toBe(false);
    expect(
      await verifyGitHubSignature(v.secret, Buffer.concat([body, Buffer.from(" ")]), v.x_hub_signature_256),
    ).toBe(false);
    expect(
      await verifyGitHubSignature(
        v.secret,
        JSON.stringify(JSON.parse(body.toString())),
        v.x_hub_signature_256,
      ),
    ).toBe(false);
    expect(await verifyGitHubSignature(v.secret, body, undefined)).toBe(false);
    expect(await verifyGitHubSignature(v.secret, body, "sha1=da13cc6c1bca22d62139e7086f3613ce811d001f")).toBe(
      false,
    );
    expect(await verifyGitHubSignature(v.secret, Buffer.from([0xff, 0xfe]), v.x_hub_signature_256)).toBe(
      false,
    );
    expect(await verifyGitHubSignature("", body, v.x_hub_signature_256)).toBe(false);
  });
});

describe("registry hook authentication", () => {
  it("accepts the configured bearer token or shared-secret header, and nothing else", () => {
    const config = {
      bearerToken: "s3cret-token",
      sharedSecret: { header: "X-Portcullis-Secret", value: "shh" },
    };
    expect(isAuthorizedHook({ authorization: "Bearer s3cret-token" }, config)).toBe(true);
    expect(isAuthorizedHook(new Headers({ "x-portcullis-secret": "shh" }), config)).toBe(true);
    expect(isAuthorizedHook({ authorization: "Bearer s3cret-tokeN" }, config)).toBe(false);
    expect(isAuthorizedHook({ authorization: "Basic s3cret-token" }, config)).toBe(false);
    expect(isAuthorizedHook({ "x-portcullis-secret": "" }, config)).toBe(false);
    expect(isAuthorizedHook({}, config)).toBe(false);
  });

  it("lets nobody in when nothing is configured", () => {
    expect(isAuthorizedHook({ authorization: "Bearer " }, {})).toBe(false);
    expect(isAuthorizedHook({ authorization: "Bearer x" }, { bearerToken: "" })).toBe(false);
  });
});

describe("dedupeKeys", () => {
  it("keys a redelivery by event id and a re-announcement by repository digest", () => {
    const [viaGrid] = parseEventGridEvents([json("acr-eventgrid/image_pushed.eventgrid-schema.json")], {});
    const [viaCloudEvents] = parseEventGridEvents(
      [json("acr-eventgrid/image_pushed.cloudevents-schema.json")],
      {},
    );
    expect(dedupeKeys(viaGrid!)).toEqual({
      event: "acr-eventgrid:c25fdb80-ebbd-4dd0-a29c-a7349e6388f6",
      digest: `jolovcr.azurecr.io/samples/nginx@${DIGEST}`,
    });
    expect(dedupeKeys(viaCloudEvents!)).toEqual(dedupeKeys(viaGrid!));
    const [acrTagOnly] = parseAcrWebhook(json("acr-webhook/push.json"), {});
    expect(dedupeKeys(acrTagOnly!)).toEqual({ event: "acr-webhook:cb8c3971-9adc-488b-xxxx-43cbb4974ff5" });
  });
});
