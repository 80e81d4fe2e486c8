import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { bearer, request } from "../pipeline/notifications.js";
import { corpusPath } from "../support/corpus.js";

const FIXTURES = corpusPath("events");
const text = (file: string) => readFileSync(path.join(FIXTURES, file), "utf8");
/** The Harbor docs annotate some examples with whole-line `//` comments. */
const stripLineComments = (source: string) => source.replace(/^\s*\/\/.*$/gm, "");

const TOKEN = "s3cret-hook-token";
const GITHUB_SECRET = "It's a Secret to Everybody";
const DISTRIBUTION_V2 = { "content-type": "application/vnd.docker.distribution.events.v2+json" };

function makeDeps(): HttpDeps & { bus: MemoryBus } {
  return {
    tables: new MemoryTableStore(),
    blobs: new FsBlobStore("/nonexistent-unused"),
    bus: new MemoryBus(),
    now: () => new Date("2024-06-01T12:00:00Z"),
    log: () => {},
    hookAuth: { bearerToken: TOKEN, sharedSecret: { header: "X-Portcullis-Secret", value: "shared-value" } },
    githubWebhookSecret: GITHUB_SECRET,
  };
}

const githubSignature = (body: string) =>
  `sha256=${createHmac("sha256", GITHUB_SECRET).update(body).digest("hex")}`;

/** The HTTP request in the Distribution docs: headers, blank line, body. */
function httpRequestFixture(file: string): { headers: Record<string, string>; body: string } {
  const [head, ...rest] = text(file).split(/\r?\n\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of head!.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: rest.join("\n\n") };
}

interface Case {
  route: string;
  body: string;
  headers?: Record<string, string>;
  status: number;
  /** scan requests the call enqueues */
  scans: number;
}

const registryCase = (
  route: string,
  file: string,
  status: number,
  scans: number,
  headers: Record<string, string> = {},
): Case => ({
  route,
  body: file.endsWith(".jsonc") ? stripLineComments(text(file)) : text(file),
  headers: { ...bearer(TOKEN), ...headers },
  status,
  scans,
});

const githubCase = (file: string, event: string, status: number, scans: number): Case => {
  const body = text(file);
  return {
    route: "github",
    body,
    headers: {
      "x-github-event": event,
      "x-hub-signature-256": githubSignature(body),
      "x-github-delivery": `d-${file}`,
    },
    status,
    scans,
  };
};

const CASES: Record<string, Case> = {
  "acr-eventgrid/image_pushed.eventgrid-schema.json": {
    ...registryCase("eventgrid", "acr-eventgrid/image_pushed.eventgrid-schema.json", 202, 1),
    body: `[${text("acr-eventgrid/image_pushed.eventgrid-schema.json")}]`,
  },
  "acr-eventgrid/image_pushed.cloudevents-schema.json": {
    ...registryCase("eventgrid", "acr-eventgrid/image_pushed.cloudevents-schema.json", 202, 1),
    body: `[${text("acr-eventgrid/image_pushed.cloudevents-schema.json")}]`,
  },
  "acr-eventgrid/image_deleted.eventgrid-schema.json": registryCase(
    "eventgrid",
    "acr-eventgrid/image_deleted.eventgrid-schema.json",
    202,
    0,
  ),
  "acr-eventgrid/image_deleted.cloudevents-schema.json": registryCase(
    "eventgrid",
    "acr-eventgrid/image_deleted.cloudevents-schema.json",
    202,
    0,
  ),
  "acr-webhook/push.json": registryCase("acr", "acr-webhook/push.json", 202, 1),
  // deletes go to tracking, never a scan; this example's digest is redacted, so it names no image: refused
  "acr-webhook/delete.json": registryCase("acr", "acr-webhook/delete.json", 400, 0),
  "acr-webhook/chart_push.json": registryCase("acr", "acr-webhook/chart_push.json", 202, 0),
  "acr-webhook/chart_delete.json": registryCase("acr", "acr-webhook/chart_delete.json", 202, 0),
  "distribution/envelope-push.json": registryCase(
    "distribution",
    "distribution/envelope-push.json",
    202,
    1,
    DISTRIBUTION_V2,
  ),
  "distribution/envelope-http-request.txt": (() => {
    const { headers, body } = httpRequestFixture("distribution/envelope-http-request.txt");
    return { route: "distribution", body, headers: { ...headers, ...bearer(TOKEN) }, status: 202, scans: 1 };
  })(),
  "distribution/event-pull.json": registryCase("distribution", "distribution/event-pull.json", 202, 0, {
    "content-type": "application/vnd.docker.distribution.events.v1+json",
  }),
  "distribution/endpoint-metrics.json": registryCase(
    "distribution",
    "distribution/endpoint-metrics.json",
    400,
    0,
    DISTRIBUTION_V2,
  ),
  "harbor/push_artifact.default.json": registryCase("harbor", "harbor/push_artifact.default.json", 202, 1),
  "harbor/push_artifact.cloudevents.jsonc": registryCase(
    "harbor",
    "harbor/push_artifact.cloudevents.jsonc",
    202,
    1,
  ),
  // not JSON even without its comments (a comma is missing upstream)
  "harbor/pull_artifact.cloudevents.jsonc": registryCase(
    "harbor",
    "harbor/pull_artifact.cloudevents.jsonc",
    400,
    0,
  ),
  ...Object.fromEntries(
    readdirSync(path.join(FIXTURES, "harbor"))
      .filter((f) => !f.startsWith("push_artifact") && f !== "pull_artifact.cloudevents.jsonc")
      .map((f) => [`harbor/${f}`, registryCase("harbor", `harbor/${f}`, 202, 0)]),
  ),
  "github/registry_package/published.docker.payload.json": githubCase(
    "github/registry_package/published.docker.payload.json",
    "registry_package",
    202,
    1,
  ),
  "github/package/published.docker.payload.json": githubCase(
    "github/package/published.docker.payload.json",
    "package",
    202,
    1,
  ),
  "github/ping/payload.json": githubCase("github/ping/payload.json", "ping", 200, 0),
  ...Object.fromEntries(
    ["issues", "issue_comment"].flatMap((event) =>
      readdirSync(path.join(FIXTURES, "github", event)).map((f) => [
        `github/${event}/${f}`,
        githubCase(`github/${event}/${f}`, event, 202, 0),
      ]),
    ),
  ),
};

function listFixtures(dir = FIXTURES, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFixtures(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

const post = (route: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  request("POST", `/api/hooks/${route}`, { body, headers });

describe("push hooks over every payload in the corpus", () => {
  it("has a case for every payload file", () => {
    const payloads = listFixtures().filter((f) => !/PROVENANCE\.md$|signature-test-vectors\.json$/.test(f));
    expect(Object.keys(CASES).sort()).toEqual(payloads.sort());
  });

  it.each(Object.entries(CASES))("%s", async (_file, c) => {
    const deps = makeDeps();
    const res = await dispatch(post(c.route, c.body, c.headers), deps);
    expect(res.status, JSON.stringify(res.body)).toBe(c.status);
    expect(deps.bus.peek("scan-requests")).toHaveLength(c.scans);
    if (c.status === 400) expect((res.body as { error: string }).error).toBeTruthy();
    if (c.scans > 0) {
      // delivered again: recognised, nothing new enqueued
      const again = await dispatch(post(c.route, c.body, c.headers), deps);
      expect(again.body).toMatchObject({ accepted: [], duplicates: c.scans });
      expect(deps.bus.peek("scan-requests")).toHaveLength(c.scans);
    }
  });

  it("enqueues a valid scan request naming the pushed image", async () => {
    const deps = makeDeps();
    await dispatch(
      post("distribution", text("distribution/envelope-push.json"), { ...bearer(TOKEN), ...DISTRIBUTION_V2 }),
      deps,
    );
    const [message] = deps.bus.peek("scan-requests");
    expect(message?.body).toMatchObject({
      type: "scan-request",
      image: {
        registry: "example.com",
        repository: "library/test",
        digest: expect.stringMatching(/^sha256:/),
      },
      trigger: { kind: "push", source: "distribution" },
    });
  });
});

describe("push intake survives a failed send", () => {
  it("starts the scan when the registry redelivers a push whose first enqueue failed", async () => {
    const deps = makeDeps();
    const bus = deps.bus;
    let failures = 1;
    const flaky: HttpDeps = {
      ...deps,
      bus: {
        send: async (queue, body, options) => {
          if (failures-- > 0) throw new Error("service bus unavailable");
          await bus.send(queue, body, options);
        },
        sendBatch: (queue, messages) => bus.sendBatch(queue, messages),
        close: () => bus.close(),
      },
    };
    const body = text("distribution/envelope-push.json");
    const first = await dispatch(post("distribution", body, { ...bearer(TOKEN), ...DISTRIBUTION_V2 }), flaky);
    expect(first.status).toBe(500);
    expect(bus.peek("scan-requests")).toHaveLength(0);
    // Distribution retries a notification its endpoint failed: this time the scan must start
    const retried = await dispatch(
      post("distribution", body, { ...bearer(TOKEN), ...DISTRIBUTION_V2 }),
      flaky,
    );
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ duplicates: 0 });
    expect(bus.peek("scan-requests")).toHaveLength(1);
  });
});

describe("hook authentication", () => {
  const body = text("distribution/envelope-push.json");
  it.each([
    ["no credentials", {}],
    ["a wrong bearer token", bearer("wrong")],
    ["a wrong shared secret", { "x-portcullis-secret": "nope" }],
    ["a Basic header", { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }],
  ])("refuses %s with 401", async (_what, headers) => {
    for (const route of ["distribution", "acr", "harbor", "eventgrid"]) {
      const deps = makeDeps();
      const res = await dispatch(post(route, body, { ...DISTRIBUTION_V2, ...headers }), deps);
      expect(res.status).toBe(401);
      expect(res.headers?.["WWW-Authenticate"]).toMatch(/^Bearer/);
      expect(deps.bus.peek("scan-requests")).toHaveLength(0);
    }
  });

  it("accepts the shared secret header instead of the token", async () => {
    const deps = makeDeps();
    const res = await dispatch(
      post("distribution", body, { ...DISTRIBUTION_V2, "X-Portcullis-Secret": "shared-value" }),
      deps,
    );
    expect(res.status).toBe(202);
  });

  it("refuses everyone when no credential is configured", async () => {
    const deps = { ...makeDeps(), hookAuth: {} };
    const res = await dispatch(post("distribution", body, { ...DISTRIBUTION_V2, ...bearer("") }), deps);
    expect(res.status).toBe(401);
  });
});

describe("Event Grid subscription validation", () => {
  it("answers the Event Grid schema's SubscriptionValidationEvent with the code (no token needed)", async () => {
    const validation = [
      {
        id: "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        topic: "/subscriptions/xxx/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg",
        subject: "",
        data: {
          validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
          validationUrl: "https://rp-eastus2.eventgrid.azure.net/x",
        },
        eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
        eventTime: "2018-01-25T22:12:19.4556811Z",
        metadataVersion: "1",
        dataVersion: "1",
      },
    ];
    const res = await dispatch(post("eventgrid", JSON.stringify(validation)), makeDeps());
    expect(res).toMatchObject({
      status: 200,
      body: { validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" },
    });
  });

  it("answers the CloudEvents OPTIONS handshake for Event Grid's origin", async () => {
    const res = await dispatch(
      request("OPTIONS", "/api/hooks/eventgrid", {
        headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
      }),
      makeDeps(),
    );
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "WebHook-Allowed-Origin": "eventgrid.azure.net" });
  });

  it("refuses the handshake from another origin", async () => {
    const res = await dispatch(
      request("OPTIONS", "/api/hooks/eventgrid", { headers: { "WebHook-Request-Origin": "evil.example" } }),
      makeDeps(),
    );
    expect(res.status).toBe(403);
  });
});

describe("GitHub signatures", () => {
  const body = text("github/registry_package/published.docker.payload.json");
  const headers = { "x-github-event": "registry_package" };

  it("verifies the signature over the raw bytes", async () => {
    const deps = makeDeps();
    const res = await dispatch(
      post("github", body, { ...headers, "x-hub-signature-256": githubSignature(body) }),
      deps,
    );
    expect(res.status).toBe(202);
    expect(deps.bus.peek("scan-requests")).toHaveLength(1);
  });

  it("refuses a signature over re-serialised JSON, a wrong one, or none", async () => {
    const reserialised = JSON.stringify(JSON.parse(body));
    for (const signature of [githubSignature(reserialised), githubSignature(`${body} `), undefined]) {
      const deps = makeDeps();
      const res = await dispatch(
        post("github", body, { ...headers, ...(signature ? { "x-hub-signature-256": signature } : {}) }),
        deps,
      );
      expect(res.status).toBe(401);
      expect(deps.bus.peek("scan-requests")).toHaveLength(0);
    }
  });

  it("agrees with GitHub's documented test vector", async () => {
    const vectors = JSON.parse(text("github/signature-test-vectors.json")) as {
      vectors: { secret: string; body_utf8?: string; x_hub_signature_256: string }[];
    };
    const vector = vectors.vectors[0]!;
    const deps = { ...makeDeps(), githubWebhookSecret: vector.secret };
    const res = await dispatch(
      post("github", vector.body_utf8!, {
        "x-github-event": "ping",
        "x-hub-signature-256": vector.x_hub_signature_256,
      }),
      deps,
    );
    expect(res.status).toBe(200);
  });
});

describe("bodies", () => {
  it("answers malformed JSON with 400 and the reason", async () => {
    const res = await dispatch(
      post("distribution", "{not json", { ...bearer(TOKEN), ...DISTRIBUTION_V2 }),
      makeDeps(),
    );
    expect(res.status).toBe(400);
    expect((res.body as { error: string }).error).toMatch(/malformed JSON/);
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const res = await dispatch(
      post("distribution", Buffer.alloc(1024 * 1024 + 1, 32), { ...bearer(TOKEN), ...DISTRIBUTION_V2 }),
      makeDeps(),
    );
    expect(res.status).toBe(413);
  });
});
