import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { loadDockerConfigCredentials } from "../../shared/registry/docker-config.js";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { RegistryClient } from "../../shared/registry/registry-client.js";
import { TransferStats } from "../../shared/registry/transfer-stats.js";
import { FakeRegistry } from "./fake-registry.js";
import { pushImage } from "./image-builder.js";

const registries: FakeRegistry[] = [];
const tempDirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-docker-config-"));
  tempDirs.push(dir);
  return dir;
};

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function startRegistry(
  options: ConstructorParameters<typeof FakeRegistry>[0] = {},
): Promise<FakeRegistry> {
  const registry = await new FakeRegistry(options).start();
  registries.push(registry);
  return registry;
}

/** Sleeps recorded instead of waited, so retry tests run in milliseconds. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function pull(
  ref: string,
  registry: FakeRegistry,
  options: Parameters<typeof openImageSource>[1] = {},
) {
  const { sleep } = recordingSleep();
  const source = await openImageSource(ref, {
    insecureRegistries: [registry.host],
    retry: { sleep },
    ...options,
  });
  const images = await source.resolve();
  for (const image of images) for (const layer of image.layers) await drain(await source.openBlob(layer));
  return images;
}

async function scanError(promise: Promise<unknown>): Promise<ScanError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScanError);
  return err as ScanError;
}

describe("registry client against a loopback registry", () => {
  it("pulls an image anonymously: manifest, config and verified layers, with the full Accept list", async () => {
    const registry = await startRegistry();
    const pushed = pushImage(registry, "team/app", { tag: "1.0", layers: ["base", "app"] });
    const stats = new TransferStats();
    const [image] = await pull(`${registry.host}/team/app:1.0`, registry, { stats });
    expect(image?.identity).toEqual({
      ref: `${registry.host}/team/app:1.0`,
      registry: registry.host,
      repository: "team/app",
      digest: pushed.digest,
      tags: ["1.0"],
      platform: { os: "linux", architecture: "amd64" },
    });
    expect(image?.layers.map((l) => [l.digest, l.diffId])).toEqual(
      pushed.layerDigests.map((d, i) => [d, pushed.diffIds[i]]),
    );
    const accept = registry.requests[0]?.accept ?? "";
    for (const type of [
      "oci.image.manifest",
      "oci.image.index",
      "distribution.manifest.v2",
      "distribution.manifest.list.v2",
    ]) {
      expect(accept).toContain(type);
    }
    expect(stats).toMatchObject({ manifestRequests: 1, configRequests: 1, blobRequests: 2, blobsOpened: 2 });
    expect(stats.blobBytes).toBe(pushed.layers.reduce((n, l) => n + l.length, 0));
  });

  it("speaks https unless the registry is named insecure", async () => {
    const registry = await startRegistry();
    pushImage(registry, "app", { tag: "latest" });
    const source = await openImageSource(`${registry.host}/app`, { retry: { maxAttempts: 1 } });
    const err = await scanError(source.resolve());
    expect(err.code).toBe("registry-unreachable");
    expect(err.message).toContain(`https://${registry.host}`);
    expect(registry.requests).toHaveLength(0);
  });

  describe("auth", () => {
    it("sends Basic credentials from $DOCKER_CONFIG/config.json after the 401 challenge", async () => {
      const registry = await startRegistry({
        auth: { kind: "basic", username: "alice", password: "s3cret:x" },
      });
      pushImage(registry, "app", { tag: "latest" });
      const dir = await tempDir();
      const auth = Buffer.from("alice:s3cret:x").toString("base64");
      await writeFile(
        path.join(dir, "config.json"),
        JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } }),
      );
      const credentials = await loadDockerConfigCredentials(path.join(dir, "config.json"));
      const [image] = await pull(`${registry.host}/app`, registry, { credentials });
      expect(image?.identity.repository).toBe("app");
      expect(registry.requests[0]?.authorization).toBeUndefined();
      expect(registry.requests.at(-1)?.authorization).toMatch(/^Basic /);
    });

    it("reads username/password and identitytoken entries too", async () => {
      const dir = await tempDir();
      const file = path.join(dir, "config.json");
      await writeFile(
        file,
        JSON.stringify({
          auths: {
            "https://index.docker.io/v1/": { username: "bob", password: "pw" },
            "ghcr.io": { identitytoken: "refresh-me" },
          },
        }),
      );
      const credentials = await loadDockerConfigCredentials(file);
      expect(await credentials("docker.io")).toEqual({ kind: "basic", username: "bob", password: "pw" });
      expect(await credentials("ghcr.io")).toEqual({ kind: "refresh-token", token: "refresh-me" });
      expect(await credentials("quay.io")).toBeUndefined();
      expect(
        await (await loadDockerConfigCredentials(path.join(dir, "missing.json")))("ghcr.io"),
      ).toBeUndefined();
      await writeFile(file, "{not json");
      await expect(loadDockerConfigCredentials(file)).rejects.toMatchObject({
        code: "invalid-docker-config",
      });
    });

    it("fails with a clear unauthorized error when Basic auth is required and no credentials exist", async () => {
      const registry = await startRegistry({ auth: { kind: "basic", username: "alice", password: "pw" } });
      pushImage(registry, "app", { tag: "latest" });
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("unauthorized");
      expect(err.permanent).toBe(true);
      expect(err.message).toContain("no credentials are configured");
    });

    it("follows the Bearer challenge and requests one token per scope, reused until it expires", async () => {
      const registry = await startRegistry({ auth: { kind: "bearer", expiresIn: 300 } });
      pushImage(registry, "app", { tag: "latest", layers: ["a", "b", "c"] });
      pushImage(registry, "other", { tag: "latest" });
      let now = 1_000_000;
      const client = new RegistryClient({ insecureRegistries: [registry.host], retry: { now: () => now } });
      await pull(`${registry.host}/app`, registry, { registryClient: client });
      await pull(`${registry.host}/app`, registry, { registryClient: client });
      expect(registry.tokenRequests).toHaveLength(1);
      const query = new URL(`http://x${registry.tokenRequests[0]?.path}`).searchParams;
      expect(query.get("service")).toBe("fake-registry");
      expect(query.get("scope")).toBe("repository:app:pull");

      await pull(`${registry.host}/other`, registry, { registryClient: client });
      expect(registry.tokenRequests).toHaveLength(2);

      now += 301_000;
      await pull(`${registry.host}/app`, registry, { registryClient: client });
      expect(registry.tokenRequests).toHaveLength(3);
      expect(client.stats.tokenRequests).toBe(3);
      expect(client.stats.retries).toBe(0);
    });

    it("sends Basic credentials to the token service, and a refresh token as an OAuth2 POST", async () => {
      const registry = await startRegistry({ auth: { kind: "bearer", username: "u", password: "p" } });
      pushImage(registry, "app", { tag: "latest" });
      await pull(`${registry.host}/app`, registry, {
        credentials: async () => ({ kind: "basic", username: "u", password: "p" }),
      });
      expect(registry.tokenRequests[0]?.authorization).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);

      await pull(`${registry.host}/app`, registry, {
        credentials: async () => ({ kind: "refresh-token", token: "identity-token-1" }),
      });
      const post = registry.tokenRequests[1];
      expect(post?.method).toBe("POST");
      expect(Object.fromEntries(new URLSearchParams(post?.body))).toMatchObject({
        grant_type: "refresh_token",
        refresh_token: "identity-token-1",
        service: "fake-registry",
        scope: "repository:app:pull",
      });
    });

    it("re-authenticates once when a cached token is refused, then succeeds", async () => {
      const registry = await startRegistry({ auth: { kind: "bearer" } });
      pushImage(registry, "app", { tag: "latest" });
      const client = new RegistryClient({ insecureRegistries: [registry.host] });
      await pull(`${registry.host}/app`, registry, { registryClient: client });
      registry.invalidateTokens();
      await pull(`${registry.host}/app`, registry, { registryClient: client });
      expect(registry.tokenRequests).toHaveLength(2);
    });

    it("gives up with `unauthorized` when the registry answers 401 twice", async () => {
      const registry = await startRegistry({ auth: { kind: "bearer" } });
      pushImage(registry, "app", { tag: "latest" });
      registry.handlers.push((req) =>
        req.path.includes("/manifests/")
          ? {
              status: 401,
              headers: { "www-authenticate": `Bearer realm="http://${registry.host}/token",service="s"` },
            }
          : undefined,
      );
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("unauthorized");
      expect(err.message).toContain("refused the credentials");
      expect(registry.requests).toHaveLength(2);
      expect(registry.tokenRequests).toHaveLength(1);
    });

    it("refuses a plain-HTTP token realm on a registry that is not named insecure", async () => {
      const registry = await startRegistry({ auth: { kind: "bearer" } });
      pushImage(registry, "app", { tag: "latest" });
      const client = new RegistryClient({
        fetch: (input, init) => fetch(String(input).replace("https://", "http://"), init),
      });
      const source = await openImageSource(`${registry.host}/app`, { registryClient: client });
      const err = await scanError(source.resolve());
      expect(err.code).toBe("unauthorized");
      expect(err.message).toContain("plain HTTP");
    });
  });

  describe("status codes", () => {
    it.each([
      [404, "not-found", "not found (404): MANIFEST_UNKNOWN"],
      [403, "denied", "access denied (403)"],
    ])("maps %i to a permanent `%s` error naming the image", async (status, code, text) => {
      const registry = await startRegistry();
      registry.handlers.push(() => ({
        status,
        body: JSON.stringify({
          errors: [{ code: status === 404 ? "MANIFEST_UNKNOWN" : "DENIED", message: "nope" }],
        }),
      }));
      const err = await scanError(pull(`${registry.host}/team/app:v1`, registry));
      expect(err.code).toBe(code);
      expect(err.permanent).toBe(true);
      expect(err.message).toContain(`${registry.host}/team/app:v1`);
      expect(err.message).toContain(text);
      expect(registry.requests).toHaveLength(1);
    });

    it("honours Retry-After on 429, in seconds or as an HTTP date, capped", async () => {
      const registry = await startRegistry();
      pushImage(registry, "app", { tag: "latest" });
      const answers = [
        { status: 429, headers: { "retry-after": "2" } },
        { status: 429, headers: { "retry-after": new Date(1_000_000 + 7_000).toUTCString() } },
        { status: 429, headers: { "retry-after": "86400" } },
      ];
      registry.handlers.push(() => answers.shift());
      const { delays, sleep } = recordingSleep();
      const source = await openImageSource(`${registry.host}/app`, {
        insecureRegistries: [registry.host],
        retry: { sleep, now: () => 1_000_000, maxRetryAfterMs: 30_000 },
      });
      await source.resolve();
      expect(delays).toEqual([2_000, 7_000, 30_000]);
    });

    it("retries a 500 with backoff and then succeeds", async () => {
      const registry = await startRegistry();
      pushImage(registry, "app", { tag: "latest" });
      let failures = 1;
      registry.handlers.push(() => (failures-- > 0 ? { status: 500 } : undefined));
      const { delays, sleep } = recordingSleep();
      const source = await openImageSource(`${registry.host}/app`, {
        insecureRegistries: [registry.host],
        retry: { sleep, baseDelayMs: 100 },
      });
      expect(await source.resolve()).toHaveLength(1);
      expect(delays).toHaveLength(1);
      expect(delays[0]).toBeGreaterThanOrEqual(100);
    });

    it("stops after a bounded number of attempts when the registry keeps failing", async () => {
      const registry = await startRegistry();
      registry.handlers.push(() => ({ status: 503 }));
      const { delays, sleep } = recordingSleep();
      const source = await openImageSource(`${registry.host}/app`, {
        insecureRegistries: [registry.host],
        retry: { sleep, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
      });
      const err = await scanError(source.resolve());
      expect(err.code).toBe("registry-unavailable");
      expect(err.permanent).toBe(false);
      expect(registry.requests).toHaveLength(4);
      expect(delays[0]).toBeLessThan(delays[1] as number);
      expect(Math.max(...delays)).toBeLessThanOrEqual(250);
    });

    it("retries a connection reset", async () => {
      const registry = await startRegistry();
      pushImage(registry, "app", { tag: "latest" });
      let resets = 2;
      registry.handlers.push(() => (resets-- > 0 ? { reset: true } : undefined));
      expect(await pull(`${registry.host}/app`, registry)).toHaveLength(1);
      expect(registry.requests.length).toBeGreaterThanOrEqual(3);
    });
  });

  describe("hostile manifests and blobs", () => {
    it("rejects a manifest that is not JSON", async () => {
      const registry = await startRegistry();
      registry.putManifest("app", "<html>login</html>", "text/html", "latest");
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("invalid-manifest");
      expect(err.message).toContain("is not JSON");
    });

    it("rejects an unknown manifest media type", async () => {
      const registry = await startRegistry();
      registry.putManifest(
        "app",
        JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.example.thing+json" }),
        "application/json",
        "latest",
      );
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("unsupported-media-type");
      expect(err.message).toContain("application/vnd.example.thing+json");
    });

    it("rejects a Docker schema 1 manifest with advice", async () => {
      const registry = await startRegistry();
      registry.putManifest(
        "app",
        JSON.stringify({ schemaVersion: 1, name: "app", fsLayers: [] }),
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "latest",
      );
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("unsupported-media-type");
      expect(err.message).toContain("schema 1");
    });

    it("refuses an oversized manifest without buffering it", async () => {
      const registry = await startRegistry();
      registry.putManifest(
        "app",
        JSON.stringify({ schemaVersion: 2, pad: "x".repeat(5000) }),
        "application/json",
        "latest",
      );
      const err = await scanError(
        pull(`${registry.host}/app`, registry, { limits: { maxManifestBytes: 1024 } }),
      );
      expect(err.code).toBe("too-large");
      expect(err.message).toContain("maxManifestBytes");
    });

    it("rejects a manifest fetched by digest whose bytes are different", async () => {
      const registry = await startRegistry();
      const pushed = pushImage(registry, "app");
      registry.content.set(`/v2/app/manifests/${pushed.digest}`, {
        body: Buffer.from(`${pushed.manifest} `),
        contentType: "application/vnd.oci.image.manifest.v1+json",
      });
      const err = await scanError(pull(`${registry.host}/app@${pushed.digest}`, registry));
      expect(err.code).toBe("digest-mismatch");
    });

    it("fails a layer stream whose bytes do not match its digest, at the end", async () => {
      const registry = await startRegistry();
      const pushed = pushImage(registry, "app", { tag: "latest" });
      const layerPath = `/v2/app/blobs/${pushed.layerDigests[0]}`;
      const original = registry.content.get(layerPath)?.body as Buffer;
      const tampered = Buffer.from(original);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0xff, tampered.length - 1);
      registry.content.set(layerPath, { body: tampered, contentType: "application/octet-stream" });
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("digest-mismatch");
      expect(err.permanent).toBe(true);
      expect(err.message).toContain(pushed.layerDigests[0]);
    });

    it("fails a layer stream that is longer than its descriptor says", async () => {
      const registry = await startRegistry();
      const pushed = pushImage(registry, "app", { tag: "latest" });
      const layerPath = `/v2/app/blobs/${pushed.layerDigests[0]}`;
      const original = registry.content.get(layerPath)?.body as Buffer;
      registry.content.set(layerPath, {
        body: Buffer.concat([original, Buffer.alloc(10_000)]),
        contentType: "application/octet-stream",
      });
      const err = await scanError(pull(`${registry.host}/app`, registry));
      expect(err.code).toBe("digest-mismatch");
      expect(err.message).toContain("more than");
    });

    it("reports progress while a layer streams", async () => {
      const registry = await startRegistry();
      const pushed = pushImage(registry, "app", { tag: "latest" });
      const progress: [number, number | undefined][] = [];
      await pull(`${registry.host}/app`, registry, {
        onProgress: (bytes, total) => progress.push([bytes, total]),
      });
      expect(progress.at(-1)).toEqual([pushed.layers[0]?.length, pushed.layers[0]?.length]);
    });
  });
});
