import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, describe, expect, it } from "vitest";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { TransferStats } from "../../shared/registry/transfer-stats.js";
import { corpusPath } from "../support/corpus.js";

const TRIVY_OCI = corpusPath("images/trivy/test.oci");
const GGCR = corpusPath("images/go-containerregistry");

const TRIVY_MANIFEST = "sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab";
const TRIVY_LAYER = "sha256:cdd16bd695eda2819e7637648f573c2ca64896c4f7bff9732ac9db734ca3bc2c";
const GGCR_CONFIG = "sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e";
const GGCR_DIFF_ID = "sha256:8897395fd26dc44ad0e2a834335b33198cb41ac4d98dfddf58eced3853fa7b17";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves a reference and streams every layer through verification. */
async function scanAll(ref: string) {
  const stats = new TransferStats();
  const source = await openImageSource(ref, { stats });
  const images = await source.resolve("all");
  const layerBytes: Buffer[] = [];
  for (const image of images)
    for (const layer of image.layers) layerBytes.push(await readAll(await source.openBlob(layer)));
  await source.close?.();
  return { images, layerBytes, stats };
}

async function writeTar(
  file: string,
  entries: { name: string; body?: Buffer | string; type?: "symlink"; linkname?: string }[],
  gzip = false,
) {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === "symlink") pack.entry({ name: e.name, type: "symlink", linkname: e.linkname ?? "" });
    else pack.entry({ name: e.name }, Buffer.from(e.body ?? ""));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  await writeFile(file, gzip ? gzipSync(bytes) : bytes);
}

const made: string[] = [];
const tmp = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-transports-"));
  made.push(dir);
  return dir;
};
afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

/** trivy's test.oci blobs under trivy's test_image_tag.oci index (which names the tag 0.0.1), as tar entries. */
async function taggedLayoutEntries() {
  const blobs = await readdir(path.join(TRIVY_OCI, "blobs/sha256"));
  return [
    { name: "oci-layout", body: await readFile(path.join(TRIVY_OCI, "oci-layout")) },
    { name: "index.json", body: await readFile(corpusPath("images/trivy/test_image_tag.oci.index.json")) },
    ...(await Promise.all(
      blobs.sort().map(async (hex) => ({
        name: `blobs/sha256/${hex}`,
        body: await readFile(path.join(TRIVY_OCI, "blobs/sha256", hex)),
      })),
    )),
  ];
}

/** The tagged layout written out as a directory. */
async function taggedLayout(): Promise<string> {
  const dir = await tmp();
  for (const e of await taggedLayoutEntries()) {
    await mkdir(path.dirname(path.join(dir, e.name)), { recursive: true });
    await writeFile(path.join(dir, e.name), e.body);
  }
  return dir;
}

/** The tagged layout as an oci-archive tar. */
async function taggedArchive(): Promise<string> {
  const file = path.join(await tmp(), "trivy-test-tagged.oci.tar");
  await writeTar(file, await taggedLayoutEntries());
  return file;
}
const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("oci: layout directories", () => {
  it("resolves trivy's test.oci and streams its layer verified", async () => {
    const { images, layerBytes, stats } = await scanAll(`oci:${TRIVY_OCI}`);
    expect(images).toHaveLength(1);
    expect(images[0]?.identity.digest).toBe(TRIVY_MANIFEST);
    expect(images[0]?.layers.map((l) => l.digest)).toEqual([TRIVY_LAYER]);
    expect(sha256(layerBytes[0] as Buffer)).toBe(TRIVY_LAYER);
    expect(stats.blobBytes).toBe(2610);
  });

  it("picks an image by its org.opencontainers.image.ref.name tag", async () => {
    const { images } = await scanAll(`oci:${await taggedLayout()}:0.0.1`);
    expect(images[0]?.identity).toMatchObject({ digest: TRIVY_MANIFEST, tags: ["0.0.1"] });
    await expect(
      openImageSource(`oci:${await taggedLayout()}:9.9`).then((s) => s.resolve()),
    ).rejects.toMatchObject({
      code: "not-found",
      message: expect.stringContaining("names: 0.0.1"),
    });
  });

  it("resolves go-containerregistry's layouts, following nested indexes and Docker manifest lists to one image", async () => {
    for (const name of ["test_index", "test_gc_index"]) {
      const { images } = await scanAll(`oci:${path.join(GGCR, "layout", name)}`);
      expect(images.map((i) => i.identity.digest)).toEqual([
        "sha256:eebff607b1628d67459b0596643fc07de70d702eccf030f0bc7bb6fc2b278650",
      ]);
      expect(images[0]?.layers[0]?.diffId).toBe(GGCR_DIFF_ID);
    }
    const viaManifestList = await scanAll(`oci:${path.join(GGCR, "layout", "test_gc_index")}:4`);
    expect(viaManifestList.images[0]?.identity.tags).toEqual(["4"]);
    const one = await scanAll(`oci:${path.join(GGCR, "layout", "test_index_one_image")}`);
    expect(one.images[0]?.identity.digest).toBe(
      "sha256:98ceaf93e482fe91b9bfd6bba07137c098e49ee2d55e69f09fb6c951e75e0e46",
    );
  });

  it("refuses an artifact that is not a container image (a Helm chart)", async () => {
    await expect(scanAll(`oci:${path.join(GGCR, "layout", "test_index_media_type")}`)).rejects.toMatchObject({
      code: "unsupported-media-type",
      message: expect.stringContaining("application/vnd.cncf.helm.config.v1+json"),
    });
  });

  it("says so when a directory is not an OCI layout", async () => {
    await expect(scanAll(`oci:${await tmp()}`)).rejects.toMatchObject({
      code: "invalid-layout",
      message: expect.stringContaining("no index.json"),
    });
  });
});

describe("oci-archive: a tar of a layout, never extracted", () => {
  it("reads the same image as the directory, plain or gzipped", async () => {
    const plain = await scanAll(`oci-archive:${await taggedArchive()}:0.0.1`);
    expect(plain.images[0]?.identity.digest).toBe(TRIVY_MANIFEST);
    expect(sha256(plain.layerBytes[0] as Buffer)).toBe(TRIVY_LAYER);

    const gz = path.join(await tmp(), "layout.tar.gz");
    await writeFile(gz, gzipSync(await readFile(await taggedArchive())));
    const gzipped = await scanAll(`oci-archive:${gz}`);
    expect(gzipped.images[0]?.identity.digest).toBe(TRIVY_MANIFEST);
    expect(gzipped.layerBytes).toEqual(plain.layerBytes);
  });

  it("fails a tampered layer with digest-mismatch", async () => {
    const dir = await tmp();
    const layout = TRIVY_OCI;
    const blobs = (hex: string) => readFile(path.join(layout, "blobs/sha256", hex));
    const layer = await blobs(TRIVY_LAYER.slice(7));
    const tampered = Buffer.from(layer);
    tampered.writeUInt8(tampered.readUInt8(100) ^ 1, 100);
    const entries = [
      { name: "oci-layout", body: await readFile(path.join(layout, "oci-layout")) },
      { name: "index.json", body: await readFile(path.join(layout, "index.json")) },
      { name: `blobs/sha256/${TRIVY_MANIFEST.slice(7)}`, body: await blobs(TRIVY_MANIFEST.slice(7)) },
      {
        name: "blobs/sha256/b23a8f6569ae9ae331226205fa72f480ce5310707d0bc97e611f83fbbbde4604",
        body: await blobs("b23a8f6569ae9ae331226205fa72f480ce5310707d0bc97e611f83fbbbde4604"),
      },
      { name: `blobs/sha256/${TRIVY_LAYER.slice(7)}`, body: tampered },
    ];
    await writeTar(path.join(dir, "bad.tar"), entries);
    await expect(scanAll(`oci-archive:${path.join(dir, "bad.tar")}`)).rejects.toMatchObject({
      code: "digest-mismatch",
    });
  });

  it("gives a clear error for a truncated archive and for a missing file", async () => {
    const dir = await tmp();
    const bytes = await readFile(await taggedArchive());
    await writeFile(path.join(dir, "cut.tar"), bytes.subarray(0, 1500));
    await expect(openImageSource(`oci-archive:${path.join(dir, "cut.tar")}`)).rejects.toMatchObject({
      code: "invalid-archive",
    });
    await expect(openImageSource(`oci-archive:${path.join(dir, "nope.tar")}`)).rejects.toMatchObject({
      code: "not-found",
    });
  });
});

describe("docker-archive: docker save output", () => {
  it("resolves go-containerregistry's tarball and computes layer digests while streaming", async () => {
    const { images, layerBytes } = await scanAll(
      `docker-archive:${path.join(GGCR, "tarball", "test_image_1.tar")}`,
    );
    expect(images[0]?.identity).toMatchObject({
      registry: "docker.io",
      repository: "bazel/v1/tarball",
      tags: ["test_image_1"],
      digest: GGCR_CONFIG,
    });
    expect(images[0]?.layers).toEqual([
      {
        digest: GGCR_DIFF_ID,
        diffId: GGCR_DIFF_ID,
        mediaType: "application/vnd.docker.image.rootfs.diff.tar",
        size: 10240,
      },
    ]);
    expect(sha256(layerBytes[0] as Buffer)).toBe(GGCR_DIFF_ID);
  });

  it("follows docker save's symlinked duplicate layers inside the archive", async () => {
    const { images } = await scanAll(`docker-archive:${path.join(GGCR, "tarball", "test_link.tar")}`);
    expect(images.map((i) => i.identity.tags)).toEqual([["test_image_1"], ["test_image_3"]]);
    expect(images[1]?.layers[0]?.digest).toBe(GGCR_DIFF_ID);
  });

  it("picks one image of a multi-image archive by name:tag", async () => {
    const source = await openImageSource(
      `docker-archive:${path.join(GGCR, "tarball", "test_link.tar")}:bazel/v1/tarball:test_image_3`,
    );
    const images = await source.resolve();
    expect(images.map((i) => i.identity.tags)).toEqual([["test_image_3"]]);
  });

  it.each([
    ["go-containerregistry/tarball/test_bundle.tar", 2],
    ["go-containerregistry/tarball/test_load_manifest.tar", 1],
    ["go-containerregistry/mutate/whiteout_image.tar", 1],
    ["scalibr-layerscanning/basic.tar", 1],
    ["scalibr-layerscanning/symlink-attack.tar", 1],
  ])("resolves %s", async (name, count) => {
    const { images } = await scanAll(`docker-archive:${corpusPath("images", name)}`);
    expect(images).toHaveLength(count);
    for (const image of images) for (const layer of image.layers) expect(layer.diffId).toBe(layer.digest);
  });

  it.each([
    ["tarball/no_manifest.tar", "no manifest.json"],
    ["tarball/null_manifest.tar", "manifest.json is null"],
  ])("refuses %s with a clear reason", async (name, reason) => {
    await expect(scanAll(`docker-archive:${path.join(GGCR, name)}`)).rejects.toMatchObject({
      code: "invalid-archive",
      message: expect.stringContaining(reason),
    });
  });

  it("treats paths inside the archive as names: '..' and absolute paths are refused", async () => {
    const dir = await tmp();
    const config = JSON.stringify({
      os: "linux",
      architecture: "amd64",
      rootfs: { type: "layers", diff_ids: [] },
    });
    for (const layerPath of ["../../etc/passwd", "/etc/passwd"]) {
      const file = path.join(dir, "escape.tar");
      await writeTar(file, [
        {
          name: "manifest.json",
          body: JSON.stringify([{ Config: "c.json", RepoTags: null, Layers: [layerPath] }]),
        },
        { name: "c.json", body: config },
      ]);
      await expect(scanAll(`docker-archive:${file}`)).rejects.toMatchObject({ code: "unsafe-path" });
    }
  });

  it("does not follow a symlink that leaves the archive", async () => {
    const dir = await tmp();
    const file = path.join(dir, "link-out.tar");
    await writeTar(file, [
      { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: ["l/layer.tar"] }]) },
      { name: "c.json", body: JSON.stringify({ rootfs: { type: "layers", diff_ids: [] } }) },
      { name: "l/layer.tar", type: "symlink", linkname: "../../../../etc/passwd" },
    ]);
    await expect(scanAll(`docker-archive:${file}`)).rejects.toMatchObject({
      code: "invalid-archive",
      message: expect.stringContaining("does not hold"),
    });
  });

  it("refuses a layer whose bytes do not match the config's diff_id", async () => {
    const dir = await tmp();
    const file = path.join(dir, "tampered.tar");
    const layer = Buffer.alloc(1024, 7);
    await writeTar(file, [
      { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: ["x/layer.tar"] }]) },
      {
        name: "c.json",
        body: JSON.stringify({
          os: "linux",
          architecture: "amd64",
          rootfs: { type: "layers", diff_ids: [sha256("other")] },
        }),
      },
      { name: "x/layer.tar", body: layer },
    ]);
    await expect(scanAll(`docker-archive:${file}`)).rejects.toMatchObject({ code: "digest-mismatch" });
  });

  it("reads a Docker 25+ archive with layers under blobs/sha256", async () => {
    const dir = await tmp();
    const file = path.join(dir, "v25.tar");
    const layer = Buffer.alloc(2048, 1);
    const config = JSON.stringify({
      os: "linux",
      architecture: "arm64",
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    });
    await writeTar(file, [
      { name: `blobs/sha256/${sha256(config).slice(7)}`, body: config },
      { name: `blobs/sha256/${sha256(layer).slice(7)}`, body: layer },
      {
        name: "manifest.json",
        body: JSON.stringify([
          {
            Config: `blobs/sha256/${sha256(config).slice(7)}`,
            RepoTags: ["app:1"],
            Layers: [`blobs/sha256/${sha256(layer).slice(7)}`],
          },
        ]),
      },
    ]);
    const { images, layerBytes } = await scanAll(`docker-archive:${file}`);
    expect(images[0]?.identity).toMatchObject({
      repository: "library/app",
      tags: ["1"],
      platform: { os: "linux", architecture: "arm64" },
    });
    expect(layerBytes[0]).toEqual(layer);
  });

  it("streams a large layer without reading the archive into memory", async () => {
    const dir = await tmp();
    const file = path.join(dir, "big.tar");
    const pack = tar.pack();
    const size = 64 * 1024 * 1024;
    const layerHash = createHash("sha256");
    const block = Buffer.alloc(1024 * 1024, 3);
    for (let i = 0; i < size / block.length; i++) layerHash.update(block);
    const diffId = `sha256:${layerHash.digest("hex")}`;
    const config = JSON.stringify({
      os: "linux",
      architecture: "amd64",
      rootfs: { type: "layers", diff_ids: [diffId] },
    });
    pack.entry({ name: "c.json" }, config);
    pack.entry({ name: "manifest.json" }, JSON.stringify([{ Config: "c.json", Layers: ["big/layer.tar"] }]));
    const entry = pack.entry({ name: "big/layer.tar", size });
    const write = pipeline(pack, createWriteStream(file));
    for (let i = 0; i < size / block.length; i++) {
      if (!entry.write(block)) await new Promise<void>((resolve) => entry.once("drain", () => resolve()));
    }
    entry.end(Buffer.alloc(0));
    pack.finalize();
    await write;
    const before = process.memoryUsage().rss;
    const source = await openImageSource(`docker-archive:${file}`);
    const [image] = await source.resolve();
    let bytes = 0;
    for await (const chunk of await source.openBlob(image?.layers[0] as never))
      bytes += (chunk as Buffer).length;
    expect(bytes).toBe(size);
    expect(image?.layers[0]?.digest).toBe(diffId);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });
});

describe("openImageSource", () => {
  it("rejects a malformed reference before touching anything", async () => {
    await expect(openImageSource("Not A Ref")).rejects.toMatchObject({ code: "invalid-reference" });
  });
});
