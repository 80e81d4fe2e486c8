import type { Readable } from "node:stream";
import type { Descriptor, LayerRef, ResolvedImage } from "../model/image.js";
import type { ImageSource, PlatformSelector } from "./image-source.js";
import { type ContentReader, resolveManifest } from "./manifest-resolver.js";
import { formatImageReference, type RegistryReference } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";
import type { ProgressCallback } from "./verified-blob-stream.js";

/** An image in an OCI distribution registry, named by tag or digest. */
export class RegistryImageSource implements ImageSource {
  readonly ref: string;

  constructor(
    private readonly reference: RegistryReference,
    private readonly client: RegistryClient,
    private readonly options: { onProgress?: ProgressCallback } = {},
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

  openBlob(layer: LayerRef): Promise<Readable> {
    return this.client.openBlob(this.reference, layer, this.options);
  }
}
