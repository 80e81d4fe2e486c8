import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { registryAllowListFromSettings } from "../../shared/composition/registry-allow-list-settings.js";
import { RegistryAllowList } from "../../shared/registry/registry-allow-list.js";
import { SettingsSchema } from "../../shared/composition/settings.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";
import { buildPipelineDeps } from "../../shared/composition/build-pipeline-deps.js";
import { ScanError } from "../../shared/model/errors.js";
import { type ScanRequestMessage, scanIdOf } from "../../shared/model/messages.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { resolveScan } from "../../shared/stages/resolve-stage.js";
import { readScan } from "../../shared/stages/scan-state.js";

const TOKEN = "s3cret-hook-token";
const DIGEST = `sha256:${"c".repeat(64)}`;

describe("the registry allow list", () => {
  let listener: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
  });

  function makeDeps(lines: string[]): HttpDeps & { bus: MemoryBus; tables: MemoryTableStore } {
    return {
      tables: new MemoryTableStore(),
      blobs: new FsBlobStore("/nonexistent-unused"),
      bus: new MemoryBus(),
      now: () => new Date("2024-06-01T12:00:00Z"),
      log: (line) => lines.push(line),
      hookAuth: { bearerToken: TOKEN },
      registryAllowList: new RegistryAllowList(["127.0.0.1:5000", "*.azurecr.io"]),
    };
  }
  const push = (deps: HttpDeps, registry: string, id: string) =>
    dispatch(
      request("POST", "/api/hooks/distribution", {
        body: distributionPush(registry, "app", "v1", DIGEST, id),
        headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
      }),
      deps,
    );

  it("a batch with one unlisted registry still scans the allowed pushes beside it", async () => {
    const lines: string[] = [];
    const deps = makeDeps(lines);
    const allowed = distributionPush("127.0.0.1:5000", "app", "v1", DIGEST, "evt-ok") as {
      events: object[];
    };
    const foreign = distributionPush(`127.0.0.1:${port}`, "app", "v1", DIGEST, "evt-foreign") as {
      events: object[];
    };
    const answer = await dispatch(
      request("POST", "/api/hooks/distribution", {
        body: { events: [...allowed.events, ...foreign.events] },
        headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
      }),
      deps,
    );
    expect(answer.status).toBe(202);
    const body = answer.body as { accepted: { image: { registry: string } }[]; refused?: number };
    expect(body.accepted.map((a) => a.image.registry)).toEqual(["127.0.0.1:5000"]);
    expect(body.refused).toBe(1);
    expect(lines.some((l) => l.includes("refused") && l.includes(`127.0.0.1:${port}`))).toBe(true);
  });

  it("resolve refuses a queued message naming an unlisted registry before any request (fail closed)", async () => {
    const tables = new MemoryTableStore();
    const deps = buildPipelineDeps({
      tables,
      blobs: new FsBlobStore("/nonexistent-unused"),
      bus: new MemoryBus(),
      dbStore: new FsBlobStore("/nonexistent-unused"),
      // the real registry client: if the guard were missing it would connect to the listener
      registry: { insecureRegistries: ["127.0.0.1"], retry: { maxAttempts: 1, baseDelayMs: 1 } },
      policy: DEFAULT_POLICY,
      registryAllowList: new RegistryAllowList(["127.0.0.1:5000"]),
      log: () => {},
    });
    const image = { registry: `127.0.0.1:${port}`, repository: "app", digest: DIGEST };
    // as if written to the queue by something other than intake (an older version, a hand-made message)
    const msg: ScanRequestMessage = {
      type: "scan-request",
      v: 1,
      scanId: scanIdOf(image),
      image,
      trigger: { kind: "manual", source: "api" },
    };
    const before = connections;
    const failure = await resolveScan(msg, deps).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ScanError);
    expect((failure as ScanError).code).toBe("registry-not-allowed");
    expect((failure as ScanError).message).toContain(`127.0.0.1:${port}`);
    expect(connections).toBe(before);
    // the scan exists, so the poison handler can mark it failed with this reason
    expect(await readScan(tables, msg.scanId)).toBeDefined();
  });

  it("matches host[:port] globs, case-insensitively, and nothing else", () => {
    const list = new RegistryAllowList(["127.0.0.1:5000", "*.azurecr.io", "registry.local:*"]);
    expect(list.allows("127.0.0.1:5000")).toBe(true);
    expect(list.allows("127.0.0.1:5001")).toBe(false);
    expect(list.allows("Team.AzureCR.io")).toBe(true);
    expect(list.allows("azurecr.io.evil.invalid")).toBe(false);
    expect(list.allows("registry.local:443")).toBe(true);
    expect(list.allows("registry.local")).toBe(false);
    expect(new RegistryAllowList([]).allows("127.0.0.1:5000")).toBe(false);
  });

  it("defaults: Azure allows the configured ACRs; locally the hosts named in the settings", () => {
    const settings = (env: Record<string, string>) => SettingsSchema.parse(env);
    const azure = registryAllowListFromSettings(
      settings({ PORTCULLIS_ACR_REGISTRIES: "team.azurecr.io" }),
      "azure",
    );
    expect(azure.allows("team.azurecr.io")).toBe(true);
    expect(azure.allows("other.azurecr.io")).toBe(false);
    expect(registryAllowListFromSettings(settings({}), "azure").allows("any.azurecr.io")).toBe(true);
    const local = registryAllowListFromSettings(
      settings({ PORTCULLIS_INSECURE_REGISTRIES: "127.0.0.1:5000" }),
      "local",
    );
    expect(local.allows("127.0.0.1:5000")).toBe(true);
    expect(local.allows("127.0.0.1:5001")).toBe(false);
    const explicit = registryAllowListFromSettings(
      settings({
        PORTCULLIS_REGISTRIES: "ghcr.io,*.example.test",
        PORTCULLIS_INSECURE_REGISTRIES: "127.0.0.1:5000",
      }),
      "local",
    );
    expect(explicit.allows("ghcr.io")).toBe(true);
    expect(explicit.allows("127.0.0.1:5000")).toBe(false);
  });

  it.each([
    ["a loopback port that is not the registry", () => `127.0.0.1:${port}`],
    ["a host name that cannot resolve", () => "registry.nonexistent.invalid"],
  ])("an event naming %s gets 403, is recorded, and reaches no socket", async (_what, registry) => {
    const lines: string[] = [];
    const deps = makeDeps(lines);
    const res = await push(deps, registry(), `refused-${registry()}`);
    expect(res.status).toBe(403);
    expect((res.body as { error: string }).error).toContain(registry());
    expect((res.body as { error: string }).error).toContain("PORTCULLIS_REGISTRIES");
    expect(deps.bus.peek("scan-requests")).toHaveLength(0);
    expect(lines.some((l) => l.includes("refused") && l.includes(registry()))).toBe(true);
    const recorded = [];
    for await (const row of deps.tables.query("events", { partitionKey: "refused" })) recorded.push(row);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.properties.registry).toBe(registry());
    expect(connections).toBe(0);
  });

  it("a manual scan of a registry off the list gets 403", async () => {
    const deps = makeDeps([]);
    const res = await dispatch(
      request("POST", "/api/scans", { body: { image: `127.0.0.1:${port}/app:v1` }, headers: bearer(TOKEN) }),
      deps,
    );
    expect(res.status).toBe(403);
    expect(deps.bus.peek("scan-requests")).toHaveLength(0);
    expect(connections).toBe(0);
  });

  it("an event for an allowed registry is accepted", async () => {
    const deps = makeDeps([]);
    expect((await push(deps, "127.0.0.1:5000", "allowed")).status).toBe(202);
    expect(deps.bus.peek("scan-requests")).toHaveLength(1);
  });
});
