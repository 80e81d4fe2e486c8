// An in-memory registry for fast stage tests: images made of real gzip layers, faults on demand.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { ScanError } from "../../shared/model/errors.js";
import type { LayerRef, Platform, ResolvedImage } from "../../shared/model/image.js";
import type { ImageSource, PlatformSelector } from "../../shared/registry/image-source.js";
import { type Blob, layerBlob, streamOf } from "../analysis/layers.js";

export const REGISTRY = "registry.test:5000";

/** A Debian 12 base layer whose dpkg database holds the given packages (name → version). */
export function debianLayer(packages: Record<string, string>, buildId?: string): Promise<Blob> {
  const status = Object.entries(packages)
    .map(
      ([name, version]) =>
        `Package: ${name}\nStatus: install ok installed\nVersion: ${version}\nArchitecture: amd64\n`,
    )
    .join("\n");
  return layerBlob([
    {
      name: "etc/os-release",
      content: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    },
    { name: "etc/debian_version", content: "12.7\n" },
    { name: "var/lib/dpkg/status", content: status },
    // a distinct build of the same packages is a new image whatever second the tar is written in
    ...(buildId === undefined ? [] : [{ name: "etc/build-id", content: `${buildId}\n` }]),
  ]);
}

/** A layer of plain files (no packages): filler for fan-out tests. */
export const fileLayer = (name: string) => layerBlob([{ name: `opt/${name}.txt`, content: `${name}\n` }]);

type Fault = (what: { kind: "resolve" | "blob"; ref: string; digest?: string }) => Error | undefined;

export class FakeRegistry {
  readonly #images = new Map<string, ResolvedImage[]>();
  readonly #blobs = new Map<string, Buffer>();
  /** every layer digest whose blob was opened, in order */
  readonly opened: string[] = [];
  fault: Fault | undefined;

  /** Adds an image (one platform per entry) under `repository:tag`; returns its manifest digests. */
  push(
    repository: string,
    tag: string,
    platforms: { platform?: Platform; layers: Blob[]; config?: Record<string, unknown> }[],
  ): ResolvedImage[] {
    const images = platforms.map(
      ({ platform = { os: "linux", architecture: "amd64" }, layers, config = {} }) => {
        for (const l of layers) this.#blobs.set(l.ref.digest, l.bytes);
        const digest = `sha256:${createHash("sha256")
          .update(JSON.stringify([platform, layers.map((l) => l.ref.digest)]))
          .digest("hex")}`;
        const image: ResolvedImage = {
          identity: {
            ref: `${REGISTRY}/${repository}@${digest}`,
            registry: REGISTRY,
            repository,
            digest,
            tags: [tag],
            platform,
          },
          manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
          configDigest: `sha256:${createHash("sha256").update(JSON.stringify(config)).digest("hex")}`,
          config,
          layers: layers.map((l) => l.ref),
        };
        this.#images.set(`${REGISTRY}/${repository}@${digest}`, [image]);
        return image;
      },
    );
    if (images.length === 1) {
      this.#images.set(`${REGISTRY}/${repository}:${tag}`, images);
      return images;
    }
    // more than one platform: an index, whose digest each image carries as the real resolver does
    const index = `sha256:${createHash("sha256")
      .update(images.map((i) => i.identity.digest).join())
      .digest("hex")}`;
    const indexed = images.map((i) => ({ ...i, indexDigest: index }));
    this.#images.set(`${REGISTRY}/${repository}:${tag}`, indexed);
    this.#images.set(`${REGISTRY}/${repository}@${index}`, indexed);
    return indexed;
  }

  /** Replaces a layer's bytes (a corrupt blob under the right digest). */
  corrupt(layer: LayerRef, bytes: Buffer): void {
    this.#blobs.set(layer.digest, bytes);
  }

  readonly openSource = async (ref: string): Promise<ImageSource> => {
    const key = ref.includes("@") ? ref.replace(/:[^/@]+@/, "@") : ref;
    return {
      ref,
      resolve: async (selector?: PlatformSelector) => {
        const fault = this.fault?.({ kind: "resolve", ref });
        if (fault) throw fault;
        const images = this.#images.get(key);
        if (!images) throw new ScanError("not-found", `manifest ${ref}: not found (404)`);
        return select(images, selector);
      },
      openBlob: async (layer: LayerRef): Promise<Readable> => {
        const fault = this.fault?.({ kind: "blob", ref, digest: layer.digest });
        if (fault) throw fault;
        const bytes = this.#blobs.get(layer.digest);
        if (!bytes) throw new ScanError("not-found", `blob ${layer.digest}: not found (404)`);
        this.opened.push(layer.digest);
        return streamOf(bytes);
      },
    };
  };
}

function select(images: ResolvedImage[], selector: PlatformSelector): ResolvedImage[] {
  if (selector === "all") return images;
  if (selector === undefined) {
    const amd64 = images.filter(
      (i) => i.identity.platform.os === "linux" && i.identity.platform.architecture === "amd64",
    );
    return amd64.length > 0 ? amd64 : images;
  }
  return images.filter(
    (i) =>
      i.identity.platform.os === selector.os && i.identity.platform.architecture === selector.architecture,
  );
}
