import type { Readable } from "node:stream";
import { ScanError } from "../model/errors.js";
import type { Descriptor, LayerRef, ResolvedImage } from "../model/image.js";
import type { ImageSource, PlatformSelector } from "./image-source.js";
import { type ContentReader, resolveManifest } from "./manifest-resolver.js";
import { isForeignLayerMediaType } from "./media-types.js";
import { formatImageReference, type RegistryReference } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";
import type { ProgressCallback } from "./verified-blob-stream.js";

/** An image in an OCI distribution registry, named by tag or digest. */
export class RegistryImageSource implements ImageSource {
  readonly ref: string;

  constructor(
    private readonly reference: RegistryReference,
    private readonly client: RegistryClient,
    private readonly options: {
      onProgress?: ProgressCallback;
      /** fetch foreign / non-distributable layers from their `urls` (otherwise only the registry is asked) */
      allowForeignLayers?: boolean;
    } = {},
  ) {
    this.ref = formatImageReference(reference);
  }

  async resolve(platform?: PlatformSelector): Promise<ResolvedImage[]> {
    const { reference, client } = this;
    // tag+digest: the digest is what gets pulled; the tag only names it
    const root = await client.getManifest(reference, reference.digest ?? (reference.tag as string));
    const reader: ContentReader = {
      readManifest: (d: Descriptor) => client.getManifest(reference, d.digest, d.size),
      readConfig: (d: Descriptor) => client.getBlob(reference, d),
    };
    const naming = {
      ref: this.ref,
      registry: reference.registry,
      repository: reference.repository,
      tags: reference.tag ? [reference.tag] : [],
    };
    return resolveManifest(root, reader, naming, platform, client.limits);
  }

  async openBlob(layer: LayerRef): Promise<Readable> {
    const progress = this.options.onProgress ? { onProgress: this.options.onProgress } : {};
    if (!this.options.allowForeignLayers || !isForeignLayerMediaType(layer.mediaType) || !layer.urls?.length)
      return this.client.openBlob(this.reference, layer, progress);
    const foreign = await this.client.openForeignBlob(layer, progress);
    if ("stream" in foreign) return foreign.stream;
    // a registry may hold a copy (a mirror that pulled the layer in): ask it before giving up
    try {
      return await this.client.openBlob(this.reference, layer, progress);
    } catch (err) {
      throw new ScanError(
        "blob-read-failed",
        `foreign layer ${layer.digest}: none of its URLs answered (${foreign.failures.join("; ")}), nor the registry (${(err as Error).message})`,
        { permanent: false, cause: err },
      );
    }
  }
}
