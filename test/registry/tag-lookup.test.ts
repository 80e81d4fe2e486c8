import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../shared/registry/registry-client.js";
import { digestsTaggedNow } from "../../shared/registry/tag-lookup.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";

/** The sweep's one question per tag, asked of the real Distribution registry: what does it point at now? */
let image: DebianTestImage;
let registry: RegistryServer;
let client: RegistryClient;
const at = (repository: string) => ({ registry: registry.host, apiHost: registry.host, repository });

beforeAll(async () => {
  image = await buildDebianTestImage();
  registry = await startRegistry();
  client = new RegistryClient({
    insecureRegistries: [registry.host],
    retry: { maxAttempts: 2, baseDelayMs: 20 },
  });
  await pushImage(image.ociIndexRef, `${registry.host}/lookup/multi:v1`, { all: true });
  await pushImage(image.ociAmd64Ref, `${registry.host}/lookup/single:v1`);
});

afterAll(async () => {
  await registry?.stop();
});

const amd64 = () => image.platforms.find((p) => p.platform === "linux/amd64")!.manifestDigest;

describe("digestsTaggedNow", () => {
  it("answers an OCI manifest tag with its digest from one HEAD, with the manifest Accept header", async () => {
    const before = registry.logs().split("\n").length;
    expect(await digestsTaggedNow(client, at("lookup/single"), "v1")).toEqual([amd64()]);
    const lines = registry
      .logs()
      .split("\n")
      .slice(before - 1);
    expect(lines.filter((l) => /HEAD \/v2\/lookup\/single\/manifests\/v1/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /GET \/v2\/lookup\/single\//.test(l))).toHaveLength(0);
  });

  it("answers an index tag with the index and each platform manifest, never a layer", async () => {
    const before = registry.logs().split("\n").length;
    const found = await digestsTaggedNow(client, at("lookup/multi"), "v1");
    expect(found[0]).toBe(image.indexDigest);
    expect(found.slice(1).sort()).toEqual(image.platforms.map((p) => p.manifestDigest).sort());
    const lines = registry
      .logs()
      .split("\n")
      .slice(before - 1);
    expect(lines.filter((l) => /\/v2\/lookup\/multi\/blobs\//.test(l))).toEqual([]);
    expect(lines.filter((l) => /HEAD \/v2\/lookup\/multi\/manifests\/v1/.test(l))).toHaveLength(1);
  });

  it("answers a tag that is gone, or a repository that never was, with nothing", async () => {
    expect(await digestsTaggedNow(client, at("lookup/single"), "gone")).toEqual([]);
    expect(await digestsTaggedNow(client, at("lookup/never"), "v1")).toEqual([]);
  });
});
