import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const REF_NAME = "org.opencontainers.image.ref.name";

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

interface LayoutIndex {
  schemaVersion: 2;
  manifests: OciDescriptor[];
}

export async function readBlob(layoutDir: string, digest: string): Promise<Buffer> {
  const [alg, hex] = digest.split(":");
  return readFile(path.join(layoutDir, "blobs", alg!, hex!));
}

export async function writeBlob(layoutDir: string, mediaType: string, bytes: Buffer): Promise<OciDescriptor> {
  const hex = createHash("sha256").update(bytes).digest("hex");
  await writeFile(path.join(layoutDir, "blobs", "sha256", hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

export async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(path.join(layoutDir, "index.json"), "utf8")) as LayoutIndex;
}

/** The descriptor a tag of an OCI layout names. */
export async function findTag(layoutDir: string, tag: string): Promise<OciDescriptor> {
  const found = (await readLayoutIndex(layoutDir)).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!found) throw new Error(`tag ${tag} not in ${layoutDir}`);
  return found;
}

/** Points `tag` of the layout at `descriptor`, replacing an earlier entry of that tag. */
export async function setTag(layoutDir: string, tag: string, descriptor: OciDescriptor): Promise<void> {
  const index = await readLayoutIndex(layoutDir);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: tag } });
  await writeFile(path.join(layoutDir, "index.json"), JSON.stringify(index));
}

export interface PlatformIndex {
  index: OciDescriptor;
  /** per platform: the manifest descriptor and its config digest */
  platforms: { platform: string; manifest: OciDescriptor; configDigest: string }[];
}

/**
 * Writes an image index holding `manifest` as linux/amd64 plus a linux/arm64/v8 twin that shares
 * its layers (its own config says arm64), so every platform of the index resolves.
 */
export async function writeTwoPlatformIndex(layoutDir: string, amd64: OciDescriptor): Promise<PlatformIndex> {
  const manifest = JSON.parse((await readBlob(layoutDir, amd64.digest)).toString()) as {
    config: OciDescriptor;
    layers: OciDescriptor[];
  };
  const config = JSON.parse((await readBlob(layoutDir, manifest.config.digest)).toString()) as Record<
    string,
    unknown
  >;
  const armConfig = await writeBlob(
    layoutDir,
    manifest.config.mediaType,
    Buffer.from(JSON.stringify({ ...config, architecture: "arm64", variant: "v8" })),
  );
  const armManifest = await writeBlob(
    layoutDir,
    OCI_MANIFEST,
    Buffer.from(JSON.stringify({ ...manifest, config: armConfig })),
  );
  const amd64Entry: OciDescriptor = {
    mediaType: amd64.mediaType,
    digest: amd64.digest,
    size: amd64.size,
    platform: { os: "linux", architecture: "amd64" },
  };
  const arm64Entry: OciDescriptor = {
    ...armManifest,
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  };
  const index = await writeBlob(
    layoutDir,
    OCI_INDEX,
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd64Entry, arm64Entry] }),
    ),
  );
  return {
    index,
    platforms: [
      { platform: "linux/amd64", manifest: amd64Entry, configDigest: manifest.config.digest },
      { platform: "linux/arm64/v8", manifest: arm64Entry, configDigest: armConfig.digest },
    ],
  };
}
