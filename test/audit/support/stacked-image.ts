// Images for the audit tests: the real Debian test image's layers with layers built here on top.
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { inventoryImage } from "../../../shared/analysis/inventory-image.js";
import type { LayerRef, ResolvedImage } from "../../../shared/model/image.js";
import { type Inventory, InventorySchema } from "../../../shared/model/report.js";
import type { BlobStore } from "../../../shared/ports/blob-store.js";
import type { ImageSource } from "../../../shared/registry/image-source.js";
import { refFor, streamOf } from "../../analysis/layers.js";
import type { DebianTestImage } from "../../support/debian-image.js";

/** A file (with its mode), or a whiteout that deletes `name` from the layers below. */
export type ModeEntry = { name: string; content: string | Buffer; mode?: number } | { whiteout: string };

/** A gzip layer of the entries, in order; files default to mode 0644. */
export async function modeLayer(entries: ModeEntry[]): Promise<{ ref: LayerRef; bytes: Buffer }> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const e of entries) {
    if ("whiteout" in e) {
      const dir = path.posix.dirname(e.whiteout);
      pack.entry({ name: `${dir === "." ? "" : `${dir}/`}.wh.${path.posix.basename(e.whiteout)}` }, "");
    } else pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.content);
  }
  pack.finalize();
  await done;
  const bytes = gzipSync(Buffer.concat(chunks));
  return { ref: refFor(bytes), bytes };
}

/** The Debian image's layers read from its OCI layout, then in-memory layers, under one image config. */
export class StackedSource implements ImageSource {
  readonly ref = "registry.example.test/team-a/app:1";
  constructor(
    private readonly debian: DebianTestImage,
    private readonly extra: { ref: LayerRef; bytes: Buffer }[],
    private readonly config: Record<string, unknown> = {},
  ) {}

  async resolve(): Promise<ResolvedImage[]> {
    const base = this.debian.layers.map(({ digest, size, mediaType }) => ({ digest, size, mediaType }));
    return [
      {
        identity: {
          ref: this.ref,
          registry: "registry.example.test",
          repository: "team-a/app",
          digest: `sha256:${"5".repeat(64)}`,
          tags: ["1"],
          platform: { os: "linux", architecture: "amd64" },
        },
        manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
        configDigest: `sha256:${"6".repeat(64)}`,
        config: { os: "linux", architecture: "amd64", ...this.config },
        layers: [...base, ...this.extra.map((e) => e.ref)],
      },
    ];
  }

  async openBlob(layer: LayerRef): Promise<Readable> {
    const mine = this.extra.find((e) => e.ref.digest === layer.digest);
    if (mine) return streamOf(mine.bytes);
    const hex = layer.digest.replace(/^sha256:/, "");
    return createReadStream(path.join(this.debian.layoutDir, "blobs", "sha256", hex));
  }
}

/** The image's inventory through the product's own path: layer analysis (cached in `store`), squash, audit. */
export async function inventoryOf(source: ImageSource, store: BlobStore): Promise<Inventory> {
  const [image] = await source.resolve();
  return InventorySchema.parse(await inventoryImage(source, image!, { store, concurrency: 1 }));
}
