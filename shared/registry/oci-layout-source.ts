import type { Readable } from "node:stream";
import { ScanError } from "../model/errors.js";
import type { Descriptor, LayerRef, ResolvedImage } from "../model/image.js";
import { DEFAULT_LIMITS, type Limits } from "../model/limits.js";
import { parseDigest } from "../model/digest.js";
import { sha256Digest, verifyDigest } from "./digest.js";
import type { ImageSource, PlatformSelector } from "./image-source.js";
import type { LayoutStore } from "./layout-store.js";
import { parseManifestDocument } from "./manifest-document.js";
import { type ContentReader, type ImageNaming, resolveManifest } from "./manifest-resolver.js";
import { MediaType } from "./media-types.js";
import { parseImageReference } from "./reference.js";
import type { TransferStats } from "./transfer-stats.js";
import { type ProgressCallback, verifyBlobStream } from "./verified-blob-stream.js";

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** containerd and Docker 25+ name the image in full here */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";

export interface LayoutSourceOptions {
  limits?: Partial<Limits>;
  stats?: TransferStats;
  onProgress?: ProgressCallback;
}

/** `blobs/<alg>/<hex>`; the digest is validated first, so the name cannot point anywhere else. */
export function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/**
 * An OCI image layout (index.json + blobs/) in a directory or a tar: `oci:`, `oci-archive:`, and the
 * OCI half of Docker 25+ `docker save` output. A tag picks the index entry whose
 * `org.opencontainers.image.ref.name` (or containerd image name) matches it.
 */
export class OciLayoutSource implements ImageSource {
  private readonly limits: Limits;

  constructor(
    readonly ref: string,
    private readonly store: LayoutStore,
    private readonly tag: string | undefined,
    private readonly options: LayoutSourceOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  async resolve(platform?: PlatformSelector): Promise<ResolvedImage[]> {
    const where = this.store.description;
    const indexBytes = await this.store
      .read("index.json", this.limits.maxManifestBytes)
      .catch((err: unknown) => {
        if (err instanceof ScanError && err.code === "not-found") {
          throw new ScanError("invalid-layout", `${where}: no index.json — not an OCI image layout`);
        }
        throw err;
      });
    const indexContent = {
      bytes: indexBytes,
      digest: sha256Digest(indexBytes),
      mediaType: MediaType.ociIndex,
    };
    const document = parseManifestDocument(indexContent, `${where} index.json`);
    if (document.kind !== "index")
      throw new ScanError("invalid-layout", `${where}: index.json is not an image index`);
    const entries = document.index.manifests;
    const reader = this.contentReader();

    const chosen =
      this.tag === undefined ? entries : entries.filter((d) => nameMatches(d, this.tag as string));
    if (chosen.length === 0) {
      const names = entries.map((d) => d.annotations?.[REF_NAME_ANNOTATION]).filter(Boolean);
      throw new ScanError(
        "not-found",
        this.tag === undefined
          ? `${where}: index.json lists no image`
          : `${where}: no image named "${this.tag}" (names: ${names.join(", ") || "none"})`,
      );
    }
    const naming = this.naming(chosen);
    // one entry is the image (or its index); several are an index of their own
    if (chosen.length === 1) {
      const descriptor = chosen[0] as Descriptor;
      const root = await reader.readManifest(descriptor);
      return resolveManifest(root, reader, naming, platform, this.limits);
    }
    const root = {
      bytes: Buffer.from(
        JSON.stringify({ ...document.index, mediaType: MediaType.ociIndex, manifests: chosen }),
      ),
      digest: indexContent.digest,
      mediaType: MediaType.ociIndex,
    };
    return resolveManifest(root, reader, naming, platform, this.limits);
  }

  async openBlob(layer: LayerRef): Promise<Readable> {
    const stream = await this.store.open(blobName(layer.digest));
    return verifyBlobStream(stream, {
      digest: layer.digest,
      size: layer.size,
      what: `layer ${layer.digest} of ${this.store.description}`,
      ...(this.options.stats ? { stats: this.options.stats } : {}),
      ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
    });
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }

  private contentReader(): ContentReader {
    const read = async (descriptor: Descriptor) => {
      const what = `${this.store.description} blob ${descriptor.digest}`;
      if (descriptor.size > this.limits.maxManifestBytes) {
        throw new ScanError(
          "too-large",
          `${what}: ${descriptor.size} bytes, over the ${this.limits.maxManifestBytes}-byte limit`,
        );
      }
      const bytes = await this.store.read(blobName(descriptor.digest), this.limits.maxManifestBytes);
      verifyDigest(bytes, descriptor.digest, what);
      return bytes;
    };
    return {
      readManifest: async (d) => ({ bytes: await read(d), digest: d.digest, mediaType: d.mediaType }),
      readConfig: read,
    };
  }

  private naming(chosen: Descriptor[]): ImageNaming {
    const fullName = chosen.length === 1 ? chosen[0]?.annotations?.[IMAGE_NAME_ANNOTATION] : undefined;
    const tags = this.tag !== undefined ? [this.tag] : refNames(chosen);
    if (fullName) {
      try {
        const parsed = parseImageReference(fullName);
        if (parsed.transport === "registry") {
          return {
            ref: this.ref,
            registry: parsed.registry,
            repository: parsed.repository,
            tags: parsed.tag ? [parsed.tag] : tags,
          };
        }
      } catch {
        // an unreadable name annotation just leaves the image named by its path
      }
    }
    return { ref: this.ref, registry: "", repository: this.store.description.replace(/^[a-z-]+:/, ""), tags };
  }
}

function refNames(descriptors: Descriptor[]): string[] {
  const names = descriptors.length === 1 ? [descriptors[0]?.annotations?.[REF_NAME_ANNOTATION]] : [];
  return names.filter((n): n is string => typeof n === "string" && n.length > 0);
}

function nameMatches(descriptor: Descriptor, tag: string): boolean {
  const annotations = descriptor.annotations ?? {};
  if (annotations[REF_NAME_ANNOTATION] === tag) return true;
  const full = annotations[IMAGE_NAME_ANNOTATION];
  return full !== undefined && (full === tag || full.endsWith(`/${tag}`) || full.endsWith(`:${tag}`));
}
