import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inventoryImage } from "../../shared/analysis/inventory-image.js";
import { inventoryFromStoredReports } from "../../shared/analysis/stored-inventory.js";
import type { LayerRef, ResolvedImage } from "../../shared/model/image.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import type { ImageSource } from "../../shared/registry/image-source.js";
import { type Blob, layerBlob, streamOf } from "./layers.js";

const DEBIAN_12 = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const stanza = (name: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n`;

let dir: string;
let store: FsBlobStore;
/** every key the store was asked for */
let reads: string[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "portcullis-stored-inventory-"));
  store = new FsBlobStore(dir);
  reads = [];
  const get = store.get.bind(store);
  store.get = (key) => {
    reads.push(key);
    return get(key);
  };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function threeLayers(): Promise<{ image: ResolvedImage; source: ImageSource }> {
  const blobs: Blob[] = await Promise.all([
    layerBlob([{ name: "etc/os-release", content: DEBIAN_12 }], "gzip"),
    layerBlob([{ name: "var/lib/dpkg/status", content: stanza("a") }], "zstd"),
    layerBlob([{ name: "var/lib/dpkg/status", content: `${stanza("a")}\n${stanza("b")}` }], "none"),
  ]);
  const image: ResolvedImage = {
    identity: {
      ref: "example.test/app@sha256:0000000000000000000000000000000000000000000000000000000000000001",
      registry: "example.test",
      repository: "app",
      digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
      tags: [],
      platform: { os: "linux", architecture: "amd64" },
    },
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    configDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000002",
    config: {},
    layers: blobs.map((b) => b.ref),
  };
  const source: ImageSource = {
    ref: image.identity.ref,
    resolve: async () => [image],
    openBlob: async (layer: LayerRef): Promise<Readable> =>
      streamOf(blobs.find((b) => b.ref.digest === layer.digest)!.bytes, 1000),
  };
  return { image, source };
}

describe("inventoryFromStoredReports: matching's read of the layer cache", () => {
  it("reads each layer's stored report once and squashes them as the layer walk does", async () => {
    const { image, source } = await threeLayers();
    const walked = await inventoryImage(source, image, { store });
    reads = [];
    const stored = await inventoryFromStoredReports(image, { store });
    expect(stored).toEqual(walked);
    expect(stored.packages.map((p) => p.name)).toEqual(["a", "b"]);
    expect(reads).toHaveLength(3);
    expect(new Set(reads).size).toBe(3);
  });

  it("fails transiently with layer-report-missing when a layer's report is not stored yet", async () => {
    const { image, source } = await threeLayers();
    await inventoryImage(source, { ...image, layers: image.layers.slice(0, 2) }, { store });
    await expect(inventoryFromStoredReports(image, { store })).rejects.toMatchObject({
      code: "layer-report-missing",
      permanent: false,
      message: expect.stringContaining(image.layers[2]!.digest),
    });
  });

  it("skips a foreign layer with the layer walk's warning, reading no report for it", async () => {
    const { image, source } = await threeLayers();
    await inventoryImage(source, image, { store });
    const foreign = {
      ...image.layers[1]!,
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    const withForeign = { ...image, layers: [image.layers[0]!, foreign, image.layers[2]!] };
    const walked = await inventoryImage(source, withForeign, { store });
    reads = [];
    const stored = await inventoryFromStoredReports(withForeign, { store });
    expect(stored.warnings).toMatchObject([{ code: "foreign-layer-skipped", layer: foreign.digest }]);
    expect(stored).toEqual(walked);
    expect(reads).toHaveLength(2);
  });
});
