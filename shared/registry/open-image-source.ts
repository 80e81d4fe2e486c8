import path from "node:path";
import type { Limits } from "../model/limits.js";
import { DirectoryLayoutStore } from "./directory-layout-store.js";
import { DockerArchiveSource } from "./docker-archive-source.js";
import type { ImageSource } from "./image-source.js";
import { OciLayoutSource } from "./oci-layout-source.js";
import { formatImageReference, parseImageReference } from "./reference.js";
import { RegistryClient, type RegistryClientOptions } from "./registry-client.js";
import { RegistryImageSource } from "./registry-image-source.js";
import { TarArchiveStore } from "./tar-archive-store.js";
import { TransferStats } from "./transfer-stats.js";
import type { ProgressCallback } from "./verified-blob-stream.js";

export interface OpenImageSourceOptions extends Omit<RegistryClientOptions, "limits" | "stats"> {
  limits?: Partial<Limits>;
  /** shared counters: requests and blob bytes of every transport */
  stats?: TransferStats;
  /** called as blob bytes flow, for a progress display */
  onProgress?: ProgressCallback;
  /** reuse a client (and its token cache) across images */
  registryClient?: RegistryClient;
  /** fetch foreign / non-distributable layers (Windows base layers) from their `urls` */
  allowForeignLayers?: boolean;
}

/**
 * The one way to open an image: a registry reference or `oci:`, `oci-archive:`, `docker-archive:`.
 * A malformed reference throws InvalidReferenceError (code `invalid-reference`, CLI exit 2).
 */
export async function openImageSource(
  ref: string,
  options: OpenImageSourceOptions = {},
): Promise<ImageSource> {
  const reference = parseImageReference(ref);
  const stats = options.stats ?? options.registryClient?.stats ?? new TransferStats();
  const layoutOptions = {
    stats,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  const text = formatImageReference(reference);
  switch (reference.transport) {
    case "registry": {
      const client = options.registryClient ?? new RegistryClient({ ...options, stats });
      return new RegistryImageSource(reference, client, {
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.allowForeignLayers ? { allowForeignLayers: true } : {}),
      });
    }
    case "oci": {
      const store = new DirectoryLayoutStore(path.resolve(reference.path), `oci:${reference.path}`);
      return new OciLayoutSource(text, store, reference.tag, layoutOptions);
    }
    case "oci-archive": {
      const store = await TarArchiveStore.open(
        reference.path,
        `oci-archive:${reference.path}`,
        archiveLimits(options.limits),
      );
      return new OciLayoutSource(text, store, reference.tag, layoutOptions);
    }
    case "docker-archive": {
      const store = await TarArchiveStore.open(
        reference.path,
        `docker-archive:${reference.path}`,
        archiveLimits(options.limits),
      );
      // Docker 25+ writes an OCI layout next to manifest.json; without one, manifest.json is all there is
      if (store.entry("manifest.json") === undefined && store.entry("index.json") !== undefined) {
        return new OciLayoutSource(text, store, reference.tag, layoutOptions);
      }
      return new DockerArchiveSource(text, store, reference.tag, layoutOptions);
    }
  }
}

function archiveLimits(limits: Partial<Limits> | undefined) {
  return limits?.maxManifestBytes ? { maxBufferedEntryBytes: limits.maxManifestBytes } : {};
}
