import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Analyzer } from "../../shared/analysis/analyzer.js";
import { inventoryImage, type LayerEvent } from "../../shared/analysis/inventory-image.js";
import { layerReportKey } from "../../shared/analysis/layer-cache.js";
import { ANALYZERS, analyzerSetVersion } from "../../shared/analysis/registry.js";
import type { LayerRef, ResolvedImage } from "../../shared/model/image.js";
import type { Inventory } from "../../shared/model/report.js";
import { InventorySchema } from "../../shared/model/report.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import type { ImageSource } from "../../shared/registry/image-source.js";
import { verifyBlobStream } from "../../shared/registry/verified-blob-stream.js";
import { type Blob, type Compression, type Entry, fixture, layerBlob, streamOf } from "./layers.js";

/** An ImageSource over in-memory layer blobs that counts every blob it opens. */
class MemorySource implements ImageSource {
  readonly ref = "example.test/app:1";
  opened: string[] = [];
  constructor(private readonly blobs: Blob[]) {}
  async resolve(): Promise<ResolvedImage[]> {
    return [imageOf(this.blobs.map((b) => b.ref))];
  }
  async openBlob(layer: LayerRef): Promise<Readable> {
    this.opened.push(layer.digest);
    const blob = this.blobs.find((b) => b.ref.digest === layer.digest);
    if (!blob) throw new Error(`no blob ${layer.digest}`);
    return streamOf(blob.bytes, 1000);
  }
}

function imageOf(layers: LayerRef[]): ResolvedImage {
  return {
    identity: {
      ref: "example.test/app:1",
      registry: "example.test",
      repository: "app",
      digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
      tags: ["1"],
      platform: { os: "linux", architecture: "amd64" },
    },
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    configDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000002",
    config: {},
    layers,
  };
}

const stanza = (name: string, version: string, extra = "") =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${extra}`;
const status = (...stanzas: string[]) => stanzas.join("\n");
const DEBIAN_12 =
  'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n';

let dir: string;
let store: FsBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "portcullis-inventory-"));
  store = new FsBlobStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function build(layers: [Entry[], Compression][]): Promise<MemorySource> {
  return new MemorySource(await Promise.all(layers.map(([entries, c]) => layerBlob(entries, c))));
}

async function inventoryOf(
  source: MemorySource,
  options: Partial<Parameters<typeof inventoryImage>[2]> = {},
) {
  const [image] = await source.resolve();
  const inventory = await inventoryImage(source, image!, { store, ...options });
  return InventorySchema.parse(inventory);
}

const summary = (inv: Inventory) =>
  inv.packages.map((p) => `${p.name}=${p.version}@${inv.layers.indexOf(p.layer)}`);

describe("inventoryImage: squashing layers", () => {
  it("attributes each package to the layer that introduced it, across gzip, zstd and plain layers", async () => {
    const source = await build([
      [
        [
          { name: "etc/os-release", content: DEBIAN_12 },
          { name: "etc/debian_version", content: "12.7\n" },
          {
            name: "var/lib/dpkg/status",
            content: status(stanza("base-a", "1"), stanza("base-b", "1"), stanza("gone", "1")),
          },
        ],
        "gzip",
      ],
      [
        [
          // apt upgraded base-b and installed curl: the status file is rewritten whole
          {
            name: "var/lib/dpkg/status",
            content: status(
              stanza("base-a", "1"),
              stanza("base-b", "2"),
              stanza("gone", "1"),
              stanza("curl", "7.88.1-10", "Source: curl (7.88.1-10)\n"),
            ),
          },
        ],
        "zstd",
      ],
      [
        [
          {
            name: "var/lib/dpkg/status",
            content: status(stanza("base-a", "1"), stanza("base-b", "2"), stanza("curl", "7.88.1-10")),
          },
        ],
        "none",
      ],
    ]);
    const inv = await inventoryOf(source);
    expect(inv.image.os).toEqual({
      family: "debian",
      version: "12.7",
      name: "Debian GNU/Linux 12 (bookworm)",
      codename: "bookworm",
    });
    expect(summary(inv)).toEqual(["base-a=1@0", "base-b=2@1", "curl=7.88.1-10@1"]);
    expect(inv.packages[0]).toEqual({
      name: "base-a",
      version: "1",
      ecosystem: "Debian:12",
      purl: "pkg:deb/debian/base-a@1?arch=amd64&distro=debian-12.7",
      source: { name: "base-a", version: "1" },
      layer: inv.layers[0],
      paths: ["var/lib/dpkg/status"],
      arch: "amd64",
    });
    expect(inv.warnings).toEqual([]);
    expect(inv.analyzerSet).toBe(analyzerSetVersion(ANALYZERS));
  });

  it("gives a package that disappears and comes back the layer it came back in", async () => {
    const source = await build([
      [[{ name: "var/lib/dpkg/status", content: status(stanza("a", "1"), stanza("x", "1")) }], "gzip"],
      [[{ name: "var/lib/dpkg/status", content: status(stanza("a", "1")) }], "gzip"],
      // a different blob from the first layer (identical bytes would be the same layer digest)
      [[{ name: "var/lib/dpkg/status", content: status(stanza("x", "1"), stanza("a", "1")) }], "gzip"],
    ]);
    expect(summary(await inventoryOf(source))).toEqual(["a=1@0", "x=1@2"]);
  });

  it("honours whiteouts and opaque directories over status.d files", async () => {
    const source = await build([
      [
        [
          { name: "var/lib/dpkg/status.d/a", content: stanza("a", "1") },
          { name: "var/lib/dpkg/status.d/b", content: stanza("b", "1") },
          { name: "var/lib/dpkg/status.d/c", content: stanza("c", "1") },
        ],
        "gzip",
      ],
      [[{ name: "var/lib/dpkg/status.d/.wh.b", content: "" }], "gzip"],
      [
        [
          { name: "var/lib/dpkg/status.d/.wh..wh..opq", content: "" },
          { name: "var/lib/dpkg/status.d/c", content: stanza("c", "1") },
          { name: "var/lib/dpkg/status.d/d", content: stanza("d", "1") },
        ],
        "gzip",
      ],
    ]);
    const inv = await inventoryOf(source);
    // c was hidden by the opaque directory and written again in the same layer: never absent, so it keeps layer 0
    expect(summary(inv)).toEqual(["c=1@0", "d=1@2"]);
    expect(inv.warnings.map((w) => w.code)).toEqual(["os-unknown"]);
    expect(inv.packages[0]?.ecosystem).toBe("Debian");
  });

  it("removes a whole directory's databases when the directory is whited out", async () => {
    const source = await build([
      [[{ name: "var/lib/dpkg/status", content: stanza("a", "1") }], "gzip"],
      [[{ name: "var/lib/.wh.dpkg", content: "" }], "gzip"],
    ]);
    expect((await inventoryOf(source)).packages).toEqual([]);
  });

  it("lets a later symlink replace an earlier os-release", async () => {
    const source = await build([
      [[{ name: "etc/os-release", content: 'ID=debian\nVERSION_ID="11"\n' }], "gzip"],
      [
        [
          { name: "usr/lib/os-release", content: DEBIAN_12 },
          { name: "etc/os-release", symlink: "../usr/lib/os-release" },
        ],
        "gzip",
      ],
    ]);
    expect((await inventoryOf(source)).image.os?.version).toBe("12");
  });

  it("names Alpine packages Alpine:v3.10 with an apk purl and origin as source", async () => {
    const source = await build([
      [
        [
          {
            name: "etc/alpine-release",
            content: await fixture("pkgdb/apk/trivy-alpine-3.10.4/etc/alpine-release"),
          },
          {
            name: "lib/apk/db/installed",
            content: await fixture("pkgdb/apk/trivy-alpine-3.10.4/lib/apk/db/installed"),
          },
        ],
        "gzip",
      ],
    ]);
    const inv = await inventoryOf(source);
    expect(inv.image.os).toEqual({ family: "alpine", version: "3.10.4" });
    expect(inv.packages).toHaveLength(14);
    expect(inv.packages.find((p) => p.name === "libssl1.1")).toMatchObject({
      ecosystem: "Alpine:v3.10",
      purl: "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4",
      source: { name: "openssl", version: "1.1.1d-r2" },
    });
  });

  it("names Ubuntu packages by the Ubuntu release even though debian_version exists", async () => {
    const source = await build([
      [
        [
          { name: "etc/os-release", content: 'ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n' },
          { name: "etc/debian_version", content: "bookworm/sid\n" },
          { name: "var/lib/dpkg/status", content: stanza("libc6", "2.35-0ubuntu3.8", "Source: glibc\n") },
        ],
        "gzip",
      ],
    ]);
    const inv = await inventoryOf(source);
    expect(inv.packages[0]).toMatchObject({
      ecosystem: "Ubuntu:22.04:LTS",
      purl: "pkg:deb/ubuntu/libc6@2.35-0ubuntu3.8?arch=amd64&distro=ubuntu-22.04",
      source: { name: "glibc", version: "2.35-0ubuntu3.8" },
    });
  });

  it("merges analyzer data into inventory facts through the squash hook, base layer first", async () => {
    const marker: Analyzer = {
      name: "marker",
      version: 1,
      maxFileSize: 100,
      required: (p) => p === "etc/marker",
      analyze: ({ content }) => ({ data: content.toString() }),
      squash: (layers) => layers.map((l) => `${l.data}${l.survives ? "" : " (replaced)"}`),
    };
    const plain: Analyzer = { ...marker, name: "plain", squash: undefined };
    const source = await build([
      [[{ name: "etc/marker", content: "one" }], "gzip"],
      [[{ name: "etc/marker", content: "two" }], "gzip"],
    ]);
    const inv = await inventoryOf(source, { analyzers: [...ANALYZERS, marker, plain] });
    expect(inv.facts?.marker).toEqual(["one (replaced)", "two"]);
    expect(inv.facts?.plain).toEqual([{ layer: inv.layers[1], path: "etc/marker", data: "two" }]);
  });
});

describe("inventoryImage: layer cache and foreign layers", () => {
  async function threeLayers() {
    return build([
      [[{ name: "etc/os-release", content: DEBIAN_12 }], "gzip"],
      [[{ name: "var/lib/dpkg/status", content: stanza("a", "1") }], "zstd"],
      [[{ name: "var/lib/dpkg/status", content: status(stanza("a", "1"), stanza("b", "1")) }], "none"],
    ]);
  }

  it("opens no blob when every layer was analysed before, and reports the same inventory", async () => {
    const source = await threeLayers();
    const events: LayerEvent["kind"][] = [];
    const first = await inventoryOf(source, { onLayer: (e) => events.push(e.kind) });
    expect(source.opened).toHaveLength(3);
    expect(events.filter((k) => k === "analyzed")).toHaveLength(3);

    source.opened = [];
    events.length = 0;
    const second = await inventoryOf(source, { onLayer: (e) => events.push(e.kind) });
    expect(source.opened).toEqual([]);
    expect(events.filter((k) => k === "cached")).toHaveLength(3);
    expect(second).toEqual(first);

    const [image] = await source.resolve();
    const key = layerReportKey(image!.layers[0]!.digest, analyzerSetVersion(ANALYZERS));
    expect(key).toMatch(/^layers\/sha256\/[0-9a-f]{64}\/as1-[0-9a-f]{20}\.json$/);
    expect(await store.has(key)).toBe(true);
  });

  it("misses the cache when one analyzer's version changes", async () => {
    const source = await threeLayers();
    await inventoryOf(source);
    source.opened = [];
    const bumped = ANALYZERS.map((a) => (a.name === "dpkg" ? { ...a, version: a.version + 1 } : a));
    expect(analyzerSetVersion(bumped)).not.toBe(analyzerSetVersion(ANALYZERS));
    await inventoryOf(source, { analyzers: bumped });
    expect(source.opened).toHaveLength(3);
  });

  it("treats an unreadable cache entry as a miss", async () => {
    const source = await threeLayers();
    const [image] = await source.resolve();
    const layer = image!.layers[1]!;
    await store.put(layerReportKey(layer.digest, analyzerSetVersion(ANALYZERS)), "{not json");
    const inv = await inventoryOf(source);
    expect(source.opened).toHaveLength(3);
    expect(inv.packages.map((p) => p.name)).toEqual(["a", "b"]);
  });

  it("skips foreign layers with a warning unless allowed", async () => {
    const source = await threeLayers();
    const [image] = await source.resolve();
    image!.layers[1]!.mediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    const skipped = await inventoryImage(source, image!, { store });
    expect(source.opened).not.toContain(image!.layers[1]!.digest);
    expect(skipped.warnings).toMatchObject([
      { code: "foreign-layer-skipped", layer: image!.layers[1]!.digest },
    ]);
    expect(skipped.layers).toHaveLength(3);

    const allowed = await inventoryImage(source, image!, { store, allowForeignLayers: true });
    expect(source.opened).toContain(image!.layers[1]!.digest);
    expect(allowed.warnings).toEqual([]);
  });

  it("fails the inventory with the layer's ScanError when a layer is corrupt", async () => {
    const source = await threeLayers();
    const blobs = (source as unknown as { blobs: Blob[] }).blobs;
    blobs[0]!.bytes = blobs[0]!.bytes.subarray(0, 20);
    await expect(inventoryOf(source)).rejects.toMatchObject({ code: "layer-corrupt" });
  });
});

describe("inventoryImage: a blob that is not what its digest says", () => {
  it("fails the layer with digest-mismatch and stores no layer report", async () => {
    const good = await layerBlob([
      { name: "var/lib/dpkg/status", content: status(stanza("bash", "5.2.15-2")) },
    ]);
    // the registry serves other bytes of the same length under the layer's digest
    const tampered = Buffer.from(good.bytes);
    tampered[tampered.length - 9] = tampered[tampered.length - 9]! ^ 0xff;
    const source: ImageSource = {
      ref: "example.test/app:1",
      resolve: async () => [imageOf([good.ref])],
      openBlob: async (layer) =>
        verifyBlobStream(streamOf(tampered, 1000), { digest: layer.digest, size: layer.size }),
    };
    const [image] = await source.resolve();
    await expect(inventoryImage(source, image!, { store })).rejects.toMatchObject({
      code: "digest-mismatch",
    });
    expect(await store.has(layerReportKey(good.ref.digest, analyzerSetVersion(ANALYZERS)))).toBe(false);
  });
});

describe("inventoryImage: an image with nothing to match", () => {
  it("says so with a warning instead of an empty, clean-looking result", async () => {
    const source = await build([[[{ name: "srv/app/config.txt", content: "hello" }], "gzip"]]);
    const inv = await inventoryOf(source);
    expect(inv.packages).toEqual([]);
    expect(inv.warnings.map((w) => w.code)).toContain("nothing-found");
  });
});
