import type { Readable } from "node:stream";
import { z } from "zod";
import { ScanError } from "../model/errors.js";
import type { LayerRef, ResolvedImage } from "../model/image.js";
import { DEFAULT_LIMITS, type Limits } from "../model/limits.js";
import { archiveEntryName } from "./archive-entry-name.js";
import { sha256Digest } from "./digest.js";
import type { ImageSource, PlatformSelector } from "./image-source.js";
import { parseConfig, platformOf } from "./manifest-resolver.js";
import { MediaType } from "./media-types.js";
import { platformMatches, platformNotFound } from "./platform-selection.js";
import { parseImageReference } from "./reference.js";
import type { TarArchiveStore, TarEntryInfo } from "./tar-archive-store.js";
import type { LayoutSourceOptions } from "./oci-layout-source.js";
import { verifyBlobStream } from "./verified-blob-stream.js";

/** One image in `docker save`'s manifest.json. */
const DockerSaveEntrySchema = z.looseObject({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()),
});
const DockerSaveManifestSchema = z.array(DockerSaveEntrySchema);
type DockerSaveEntry = z.infer<typeof DockerSaveEntrySchema>;

const LAYER_MEDIA_TYPE = {
  tar: "application/vnd.docker.image.rootfs.diff.tar",
  gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};

/** Layers in `docker save` output are plain tars, but a re-packed archive may hold compressed ones. */
function sniffLayerMediaType(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return LAYER_MEDIA_TYPE.gzip;
  if (head.readUInt32LE(0) === 0xfd2fb528) return LAYER_MEDIA_TYPE.zstd;
  return LAYER_MEDIA_TYPE.tar;
}

/**
 * `docker save` output (manifest.json + configs + `<id>/layer.tar`, or Docker 25+ `blobs/sha256/…`).
 * There is no manifest, so an image is known by its image ID (the config digest), and each layer by
 * the sha256 of its bytes, computed while the archive was indexed and verified again when read.
 */
export class DockerArchiveSource implements ImageSource {
  private readonly limits: Limits;
  /** layer digest → entry name, filled by resolve() */
  private readonly layerNames = new Map<string, string>();

  constructor(
    readonly ref: string,
    private readonly store: TarArchiveStore,
    private readonly tag: string | undefined,
    private readonly options: LayoutSourceOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  async resolve(platform?: PlatformSelector): Promise<ResolvedImage[]> {
    const where = this.store.description;
    if (!(await this.store.stat("manifest.json"))) {
      throw new ScanError(
        "invalid-archive",
        `${where}: no manifest.json — not a "docker save" archive (an OCI layout tar is read with oci-archive:)`,
      );
    }
    const bytes = await this.store.read("manifest.json", this.limits.maxManifestBytes);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new ScanError("invalid-archive", `${where}: manifest.json is not JSON`);
    }
    if (json === null)
      throw new ScanError("invalid-archive", `${where}: manifest.json is null — the archive holds no image`);
    const parsed = DockerSaveManifestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ScanError(
        "invalid-archive",
        `${where}: manifest.json is malformed at ${issue?.path.join(".") || "top level"}: ${issue?.message}`,
      );
    }
    if (parsed.data.length === 0) throw new ScanError("no-image", `${where}: manifest.json lists no image`);
    const entries =
      this.tag === undefined ? parsed.data : parsed.data.filter((e) => repoTagMatches(e, this.tag as string));
    if (entries.length === 0) {
      const tags = parsed.data.flatMap((e) => e.RepoTags ?? []);
      throw new ScanError(
        "not-found",
        `${where}: no image tagged "${this.tag}" (tags: ${tags.join(", ") || "none"})`,
      );
    }
    const images: ResolvedImage[] = [];
    for (const entry of entries) images.push(await this.resolveEntry(entry));
    if (platform === undefined || platform === "all") return images;
    const chosen = images.filter((i) => platformMatches(i.identity.platform, platform));
    if (chosen.length === 0)
      throw platformNotFound(
        this.ref,
        platform,
        images.map((i) => i.identity.platform),
      );
    return chosen;
  }

  async openBlob(layer: LayerRef): Promise<Readable> {
    if (this.layerNames.size === 0) await this.resolve("all");
    const name = this.layerNames.get(layer.digest);
    if (name === undefined)
      throw new ScanError("not-found", `${this.store.description}: no layer ${layer.digest}`);
    return verifyBlobStream(await this.store.open(name), {
      digest: layer.digest,
      size: layer.size,
      what: `layer ${layer.digest} of ${this.store.description}`,
      ...(this.options.stats ? { stats: this.options.stats } : {}),
      ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
    });
  }

  private async resolveEntry(entry: DockerSaveEntry): Promise<ResolvedImage> {
    const where = this.store.description;
    const configName = archiveEntryName(entry.Config, `${where} manifest.json Config`);
    const configBytes = await this.store.read(configName, this.limits.maxManifestBytes);
    const configDigest = sha256Digest(configBytes);
    // The config's file name is its own digest; a different one means the archive was altered.
    const namedHex = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(configName)?.[1];
    if (namedHex && `sha256:${namedHex}` !== configDigest) {
      throw new ScanError("digest-mismatch", `${where}: config ${configName} hashes to ${configDigest}`);
    }
    const config = parseConfig(configBytes, `${where} config ${configName}`);
    const diffIds = config.rootfs?.diff_ids ?? [];
    const layers = entry.Layers.map((layerPath, i): LayerRef => {
      const name = archiveEntryName(layerPath, `${where} manifest.json Layers`);
      const info = this.layerEntry(name);
      const mediaType = sniffLayerMediaType(info.head);
      const diffId = diffIds.length === entry.Layers.length ? diffIds[i] : undefined;
      if (mediaType === LAYER_MEDIA_TYPE.tar && diffId !== undefined && diffId !== info.digest) {
        throw new ScanError(
          "digest-mismatch",
          `${where}: layer ${name} hashes to ${info.digest}, the config says ${diffId}`,
        );
      }
      this.layerNames.set(info.digest, name);
      const ref: LayerRef = { digest: info.digest, mediaType, size: info.size };
      if (diffId !== undefined) ref.diffId = diffId;
      return ref;
    });
    const tags = entry.RepoTags ?? [];
    const named = tags[0] ? parseRepoTag(tags[0]) : undefined;
    return {
      identity: {
        ref: this.ref,
        registry: named?.registry ?? "",
        repository: named?.repository ?? where.replace(/^[a-z-]+:/, ""),
        digest: configDigest,
        tags: tags.map((t) => parseRepoTag(t)?.tag).filter((t): t is string => t !== undefined),
        platform: platformOf(config, undefined),
      },
      manifestMediaType: MediaType.dockerManifest,
      configDigest,
      config: config as Record<string, unknown>,
      layers,
    };
  }

  private layerEntry(name: string): TarEntryInfo {
    const info = this.store.entry(name);
    if (!info)
      throw new ScanError(
        "invalid-archive",
        `${this.store.description}: manifest.json names layer ${name}, which the archive does not hold`,
      );
    return info;
  }
}

function parseRepoTag(repoTag: string): { registry: string; repository: string; tag?: string } | undefined {
  try {
    const ref = parseImageReference(repoTag);
    return ref.transport === "registry" ? ref : undefined;
  } catch {
    return undefined;
  }
}

function repoTagMatches(entry: DockerSaveEntry, wanted: string): boolean {
  const wantedRef = parseRepoTag(wanted);
  return (entry.RepoTags ?? []).some((tag) => {
    if (tag === wanted) return true;
    const ref = parseRepoTag(tag);
    return (
      ref !== undefined &&
      wantedRef !== undefined &&
      ref.registry === wantedRef.registry &&
      ref.repository === wantedRef.repository &&
      ref.tag === wantedRef.tag
    );
  });
}
