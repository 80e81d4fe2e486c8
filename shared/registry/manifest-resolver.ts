import { ScanError } from "../model/errors.js";
import type { Descriptor, LayerRef, Platform, ResolvedImage } from "../model/image.js";
import type { Limits } from "../model/limits.js";
import type { PlatformSelector } from "./image-source.js";
import { type ManifestContent, parseManifestDocument } from "./manifest-document.js";
import { type ImageConfig, ImageConfigSchema, type ImageManifest } from "./manifest-schema.js";
import { isImageConfigMediaType, isImageManifestMediaType, isIndexMediaType } from "./media-types.js";
import {
  isAttestationManifest,
  isLinuxAmd64,
  platformMatches,
  platformNotFound,
  selectPlatforms,
} from "./platform-selection.js";

/** How a transport hands the resolver manifests and configs: bounded and digest-verified. */
export interface ContentReader {
  readManifest(descriptor: Descriptor): Promise<ManifestContent>;
  readConfig(descriptor: Descriptor): Promise<Buffer>;
}

/** What the report calls the image, before a platform manifest is chosen. */
export interface ImageNaming {
  ref: string;
  registry: string;
  repository: string;
  tags: string[];
}

/** nested indexes deeper than this are hostile, not useful */
const MAX_INDEX_DEPTH = 4;
/** images one reference may expand to */
const MAX_LEAVES = 1024;

interface Leaf {
  descriptor?: Descriptor;
  content?: ManifestContent;
}

/**
 * Resolves a manifest or index to single-platform images: walks nested indexes, skips attestation
 * manifests and non-image artifacts, applies the platform selector, reads and verifies each config.
 */
export async function resolveManifest(
  root: ManifestContent,
  reader: ContentReader,
  naming: ImageNaming,
  selector: PlatformSelector,
  limits: Pick<Limits, "maxManifestBytes">,
): Promise<ResolvedImage[]> {
  const what = naming.ref;
  const document = parseManifestDocument(root, `manifest of ${what}`);
  if (document.kind === "manifest") {
    const image = await resolveImageManifest(
      document.manifest,
      document.mediaType,
      root.digest,
      undefined,
      reader,
      naming,
      limits,
    );
    if (!image) {
      const type = document.manifest.artifactType ?? document.manifest.config.mediaType;
      throw new ScanError(
        "unsupported-media-type",
        `${what} is not a container image (config media type "${type}")`,
      );
    }
    if (selector !== undefined && selector !== "all")
      selectPlatforms([image], (i) => i.identity.platform, selector, what);
    return [image];
  }

  const leaves: Leaf[] = [];
  await collectLeaves(document.index.manifests, reader, leaves, 1, what);
  // Only fetch what the selector may pick: descriptor platforms narrow it before any request.
  const offered = leaves.flatMap((l) => (l.descriptor?.platform ? [l.descriptor.platform] : []));
  let candidates = leaves;
  if (selector === undefined && offered.some(isLinuxAmd64)) {
    candidates = leaves.filter((l) => !l.descriptor?.platform || isLinuxAmd64(l.descriptor.platform));
  } else if (selector !== undefined && selector !== "all") {
    candidates = leaves.filter(
      (l) => !l.descriptor?.platform || platformMatches(l.descriptor.platform, selector),
    );
  }
  const images: ResolvedImage[] = [];
  for (const leaf of candidates) {
    const descriptor = leaf.descriptor as Descriptor;
    const content = leaf.content ?? (await reader.readManifest(descriptor));
    const doc = parseManifestDocument(content, `manifest ${descriptor.digest} of ${what}`);
    if (doc.kind !== "manifest") continue;
    const image = await resolveImageManifest(
      doc.manifest,
      doc.mediaType,
      descriptor.digest,
      descriptor.platform,
      reader,
      naming,
      limits,
    );
    if (image) images.push({ ...image, indexDigest: root.digest });
  }
  if (images.length === 0 && (selector === undefined || selector === "all" || offered.length === 0)) {
    throw new ScanError(
      "no-image",
      `${what} is an index with no container image in it (attestations and artifacts are skipped)`,
    );
  }
  if (selector !== undefined && selector !== "all") {
    const chosen = images.filter((i) => platformMatches(i.identity.platform, selector));
    if (chosen.length === 0)
      throw platformNotFound(what, selector, [...offered, ...images.map((i) => i.identity.platform)]);
    return chosen;
  }
  return selectPlatforms(images, (i) => i.identity.platform, selector, what);
}

async function collectLeaves(
  descriptors: Descriptor[],
  reader: ContentReader,
  leaves: Leaf[],
  depth: number,
  what: string,
): Promise<void> {
  for (const descriptor of descriptors) {
    if (isAttestationManifest(descriptor)) continue;
    if (isIndexMediaType(descriptor.mediaType)) {
      if (depth >= MAX_INDEX_DEPTH) {
        throw new ScanError(
          "invalid-manifest",
          `${what}: image indexes nested more than ${MAX_INDEX_DEPTH} deep`,
        );
      }
      const content = await reader.readManifest(descriptor);
      const doc = parseManifestDocument(content, `index ${descriptor.digest} of ${what}`);
      if (doc.kind === "index") await collectLeaves(doc.index.manifests, reader, leaves, depth + 1, what);
      else leaves.push({ descriptor, content });
    } else if (isImageManifestMediaType(descriptor.mediaType)) {
      // the same image reached twice (tagged and via an index) is scanned once
      if (!leaves.some((l) => l.descriptor?.digest === descriptor.digest)) leaves.push({ descriptor });
    }
    // any other media type in an index is an artifact (signature, SBOM, descriptor) — not an image
    if (leaves.length > MAX_LEAVES)
      throw new ScanError("invalid-manifest", `${what}: more than ${MAX_LEAVES} images`);
  }
}

async function resolveImageManifest(
  manifest: ImageManifest,
  mediaType: string,
  digest: string,
  indexPlatform: Platform | undefined,
  reader: ContentReader,
  naming: ImageNaming,
  limits: Pick<Limits, "maxManifestBytes">,
): Promise<ResolvedImage | undefined> {
  if (!isImageConfigMediaType(manifest.config.mediaType)) return undefined;
  if (manifest.config.size > limits.maxManifestBytes) {
    throw new ScanError(
      "too-large",
      `config ${manifest.config.digest} of ${naming.ref}: ${manifest.config.size} bytes, over the ${limits.maxManifestBytes}-byte limit (limits.maxManifestBytes)`,
    );
  }
  const configBytes = await reader.readConfig(manifest.config);
  const config = parseConfig(configBytes, `config ${manifest.config.digest} of ${naming.ref}`);
  const diffIds = config.rootfs?.diff_ids ?? [];
  const layers: LayerRef[] = manifest.layers.map((layer, i) => {
    const ref: LayerRef = { digest: layer.digest, mediaType: layer.mediaType, size: layer.size };
    if (diffIds.length === manifest.layers.length && diffIds[i]) ref.diffId = diffIds[i];
    if (layer.urls) ref.urls = layer.urls;
    return ref;
  });
  return {
    identity: {
      ref: naming.ref,
      registry: naming.registry,
      repository: naming.repository,
      digest,
      tags: naming.tags,
      platform: platformOf(config, indexPlatform),
    },
    manifestMediaType: mediaType,
    configDigest: manifest.config.digest,
    config: config as Record<string, unknown>,
    layers,
  };
}

/** Parses an image config; a config that is not a JSON object is a permanent error. */
export function parseConfig(bytes: Buffer, what: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ScanError("invalid-config", `${what} is not JSON`);
  }
  const parsed = ImageConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScanError(
      "invalid-config",
      `${what} is malformed at ${issue?.path.join(".") || "top level"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** The config is authoritative; the index's descriptor fills what it leaves out. */
export function platformOf(config: ImageConfig, fallback: Platform | undefined): Platform {
  const platform: Platform = {
    os: config.os || fallback?.os || "unknown",
    architecture: config.architecture || fallback?.architecture || "unknown",
  };
  const variant = config.variant || fallback?.variant;
  if (variant) platform.variant = variant;
  const osVersion = config["os.version"] || fallback?.["os.version"];
  if (osVersion) platform["os.version"] = osVersion;
  return platform;
}
