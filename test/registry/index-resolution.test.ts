import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Platform } from "../../shared/model/image.js";
import type { PlatformSelector } from "../../shared/registry/image-source.js";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { parsePlatformSelector } from "../../shared/registry/platform-selection.js";
import { FakeRegistry } from "./fake-registry.js";
import { type IndexEntry, OCI_INDEX, pushImage, pushIndex } from "./image-builder.js";

let registry: FakeRegistry;
beforeEach(async () => {
  registry = await new FakeRegistry().start();
});
afterEach(async () => {
  await registry.close();
});

function pushPlatformImage(platform: Platform): IndexEntry {
  return {
    image: pushImage(registry, "multi", { platform, layers: [`layer of ${JSON.stringify(platform)}`] }),
    platform,
  };
}

async function platformsOf(tag: string, selector: PlatformSelector): Promise<string[]> {
  const source = await openImageSource(`${registry.host}/multi:${tag}`, {
    insecureRegistries: [registry.host],
  });
  const images = await source.resolve(selector);
  return images.map((i) =>
    [
      i.identity.platform.os,
      i.identity.platform.architecture,
      i.identity.platform.variant,
      i.identity.platform["os.version"],
    ]
      .filter(Boolean)
      .join("/"),
  );
}

describe("image index platform selection", () => {
  beforeEach(() => {
    const amd64 = pushPlatformImage({ os: "linux", architecture: "amd64" });
    const arm64 = pushPlatformImage({ os: "linux", architecture: "arm64", variant: "v8" });
    const armv7 = pushPlatformImage({ os: "linux", architecture: "arm", variant: "v7" });
    const attestation = pushImage(registry, "multi", {
      platform: { os: "unknown", architecture: "unknown" },
      layers: ["provenance"],
    });
    pushIndex(
      registry,
      "multi",
      [
        amd64,
        arm64,
        armv7,
        {
          image: attestation,
          platform: { os: "unknown", architecture: "unknown" },
          annotations: {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": amd64.image.digest,
          },
        },
      ],
      "latest",
    );
    const ppc = pushPlatformImage({ os: "linux", architecture: "ppc64le" });
    const s390x = pushPlatformImage({ os: "linux", architecture: "s390x" });
    pushIndex(registry, "multi", [ppc, s390x], "no-amd64");
  });

  it("picks linux/amd64 by default, fetching no other platform's manifest", async () => {
    expect(await platformsOf("latest", undefined)).toEqual(["linux/amd64"]);
    const manifestFetches = registry.requests.filter((r) => r.path.includes("/manifests/sha256:"));
    expect(manifestFetches).toHaveLength(1);
  });

  it("takes every image when the index has no linux/amd64", async () => {
    expect(await platformsOf("no-amd64", undefined)).toEqual(["linux/ppc64le", "linux/s390x"]);
  });

  it('takes every image with "all", skipping the attestation manifest', async () => {
    expect(await platformsOf("latest", "all")).toEqual(["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
  });

  it("selects os/arch[/variant]", async () => {
    expect(await platformsOf("latest", parsePlatformSelector("linux/arm64"))).toEqual(["linux/arm64/v8"]);
    expect(await platformsOf("latest", parsePlatformSelector("linux/arm/v7"))).toEqual(["linux/arm/v7"]);
  });

  it("names the platforms the image has when the requested one is missing", async () => {
    await expect(platformsOf("latest", parsePlatformSelector("windows/amd64"))).rejects.toMatchObject({
      code: "platform-not-found",
      message: expect.stringContaining("linux/amd64, linux/arm64/v8, linux/arm/v7"),
    });
  });

  it("walks nested indexes", async () => {
    const inner = registry.content.get("/v2/multi/manifests/latest")?.body as Buffer;
    const innerDigest = registry.putManifest("multi", inner, OCI_INDEX);
    pushIndex(
      registry,
      "multi",
      [{ image: { digest: innerDigest, size: inner.length }, mediaType: OCI_INDEX }],
      "nested",
    );
    expect(await platformsOf("nested", parsePlatformSelector("linux/arm64/v8"))).toEqual(["linux/arm64/v8"]);
  });

  it("refuses an index whose only entries are attestations", async () => {
    const att = pushImage(registry, "multi", { platform: { os: "unknown", architecture: "unknown" } });
    pushIndex(
      registry,
      "multi",
      [{ image: att, platform: { os: "unknown", architecture: "unknown" } }],
      "only-attestations",
    );
    await expect(platformsOf("only-attestations", undefined)).rejects.toMatchObject({ code: "no-image" });
  });
});

describe("Windows os.version selection", () => {
  beforeEach(() => {
    const ltsc2019 = pushPlatformImage({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.17763.5936",
    });
    const ltsc2022 = pushPlatformImage({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.20348.2527",
    });
    const ltsc2025 = pushPlatformImage({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.26100.4061",
    });
    pushIndex(registry, "multi", [ltsc2019, ltsc2022, ltsc2025], "servercore");
  });

  it("matches a build prefix at a dot boundary", async () => {
    expect(await platformsOf("servercore", parsePlatformSelector("windows/amd64:10.0.20348"))).toEqual([
      "windows/amd64/10.0.20348.2527",
    ]);
    expect(await platformsOf("servercore", parsePlatformSelector("windows(10.0.17763)/amd64"))).toEqual([
      "windows/amd64/10.0.17763.5936",
    ]);
    await expect(
      platformsOf("servercore", parsePlatformSelector("windows/amd64:10.0.2034")),
    ).rejects.toMatchObject({
      code: "platform-not-found",
    });
  });

  it("scans every Windows build by default (no linux/amd64 in the index)", async () => {
    expect(await platformsOf("servercore", undefined)).toHaveLength(3);
  });
});

describe("parsePlatformSelector", () => {
  it.each([
    ["all", "all"],
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["windows/amd64:10.0.17763", { os: "windows", architecture: "amd64", osVersion: "10.0.17763" }],
  ])("reads %s", (text, expected) => {
    expect(parsePlatformSelector(text)).toEqual(expected);
  });

  it.each(["linux", "linux/amd64/v1/x", "windows/amd64:ltsc", "linux//amd64"])("rejects %s", (text) => {
    expect(() => parsePlatformSelector(text)).toThrow(/invalid platform/);
  });
});
