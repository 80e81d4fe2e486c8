import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDebianTestImage, type DebianTestImage } from "./debian-image.js";
import { listLayerEntries } from "./layer-entries.js";

const blobPath = (image: DebianTestImage, digest: string) =>
  path.join(image.layoutDir, "blobs", ...digest.split(":"));

describe("the Debian bookworm test image", () => {
  let image: DebianTestImage;
  beforeAll(async () => {
    image = await buildDebianTestImage();
  }, 900_000);

  it("has three gzip layers: minbase, + jq, − tzdata", () => {
    expect(image.layers.map((l) => l.mediaType)).toEqual(
      Array(3).fill("application/vnd.oci.image.layer.v1.tar+gzip"),
    );
    expect(image.addedPackages).toContain(image.addedPackage);
    expect(image.addedPackages.length).toBeGreaterThan(1);
  });

  it("lists the final rootfs with each package's introducing layer", () => {
    const byName = new Map(image.packages.map((p) => [p.name, p]));
    expect(byName.get("base-files")?.layerIndex).toBe(0);
    for (const name of image.addedPackages) expect(byName.get(name)?.layerIndex).toBe(1);
    expect(byName.has(image.removedPackage)).toBe(false);
    // bash is a binNMU: its binary version carries +bN, its source version does not.
    const bash = byName.get("bash")!;
    expect(bash.version.startsWith(bash.sourceVersion)).toBe(true);
    expect(byName.get("libjq1")?.sourceName).toBe("jq");
  });

  it("records whiteouts and a rewritten dpkg status in the removing layer", async () => {
    const entries = await listLayerEntries(blobPath(image, image.layers[2]!.digest));
    expect(entries).toContain("var/lib/dpkg/status");
    expect(entries).toContain(`var/lib/dpkg/info/.wh.${image.removedPackage}.list`);
    expect(entries).toContain("usr/share/.wh.zoneinfo");
  });

  it("keeps /dev empty in the base layer", async () => {
    const entries = await listLayerEntries(blobPath(image, image.layers[0]!.digest));
    expect(entries.filter((e) => e.startsWith("dev/") && e !== "dev/")).toEqual([]);
  });

  it("tags a two-platform index and the amd64 manifest in the layout", async () => {
    const layoutIndex = JSON.parse(await readFile(path.join(image.layoutDir, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    const tags = Object.fromEntries(
      layoutIndex.manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"], m.digest]),
    );
    expect(tags[image.indexTag]).toBe(image.indexDigest);
    expect(tags[image.amd64Tag]).toBe(image.platforms[0]!.manifestDigest);
    const index = JSON.parse(await readFile(blobPath(image, image.indexDigest), "utf8")) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
  });

  it("is built once and then served from the cache", async () => {
    const again = await buildDebianTestImage();
    expect(again.dir).toBe(image.dir);
    expect(again.layers).toEqual(image.layers);
  });
});
