import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { Platform } from "../../shared/model/image.js";
import type { FakeRegistry } from "./fake-registry.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export interface PushedImage {
  digest: string;
  size: number;
  manifest: Buffer;
  layerDigests: string[];
  diffIds: string[];
  layers: Buffer[];
}

/** Pushes a small single-platform image (gzip layers of the given bytes) and returns its digests. */
export function pushImage(
  registry: FakeRegistry,
  repository: string,
  options: { platform?: Platform; layers?: string[]; tag?: string; configMediaType?: string } = {},
): PushedImage {
  const platform = options.platform ?? { os: "linux", architecture: "amd64" };
  const raw = (options.layers ?? ["layer one"]).map((text) => Buffer.from(text));
  const layers = raw.map((r) => gzipSync(r));
  const diffIds = raw.map(sha256);
  const config = Buffer.from(
    JSON.stringify({ ...platform, rootfs: { type: "layers", diff_ids: diffIds }, config: {} }),
  );
  const configDigest = registry.putBlob(repository, config);
  const layerDigests = layers.map((l) => registry.putBlob(repository, l));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: options.configMediaType ?? OCI_CONFIG, digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: OCI_LAYER_GZIP, digest: layerDigests[i], size: l.length })),
    }),
  );
  const digest = registry.putManifest(repository, manifest, OCI_MANIFEST, options.tag);
  return { digest, size: manifest.length, manifest, layerDigests, diffIds, layers };
}

export interface IndexEntry {
  image: { digest: string; size: number };
  platform?: Platform;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export function pushIndex(
  registry: FakeRegistry,
  repository: string,
  entries: IndexEntry[],
  tag?: string,
): { digest: string; size: number } {
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: entries.map((e) => ({
        mediaType: e.mediaType ?? OCI_MANIFEST,
        digest: e.image.digest,
        size: e.image.size,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.annotations ? { annotations: e.annotations } : {}),
      })),
    }),
  );
  return { digest: registry.putManifest(repository, body, OCI_INDEX, tag), size: body.length };
}
