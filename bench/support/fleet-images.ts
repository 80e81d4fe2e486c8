// A fleet of small images in one OCI layout: the Debian test image's base layer under one unique
// top layer each, so that pushing them at once exercises the shared-layer lease.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  OCI_MANIFEST,
  type OciDescriptor,
  readBlob,
  setTag,
  writeBlob,
} from "../../test/support/oci-platform-index.js";
import type { DebianTestImage } from "../../test/support/debian-image.js";
import { layerBlob } from "../../test/windows/support/windows-image.js";

const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface FleetImage {
  /** `oci:<layout>:<tag>` */
  source: string;
  manifestDigest: string;
  /** the unique top layer's digest */
  topLayer: string;
}

export interface Fleet {
  images: FleetImage[];
  /** the layer every image shares */
  baseLayer: string;
}

/** Writes `count` images (tags app-0 … app-N) into a new OCI layout at `layoutDir`. */
export async function writeFleet(debian: DebianTestImage, layoutDir: string, count: number): Promise<Fleet> {
  await mkdir(path.join(layoutDir, "blobs", "sha256"), { recursive: true });
  await writeFile(path.join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(path.join(layoutDir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));

  const amd64 = debian.platforms.find((p) => p.platform === "linux/amd64");
  if (!amd64) throw new Error("the Debian test image has no linux/amd64 manifest");
  const manifest = JSON.parse((await readBlob(debian.layoutDir, amd64.manifestDigest)).toString()) as {
    config: OciDescriptor;
    layers: OciDescriptor[];
  };
  const config = JSON.parse((await readBlob(debian.layoutDir, manifest.config.digest)).toString()) as {
    rootfs: { diff_ids: string[] };
    history?: { empty_layer?: boolean }[];
  } & Record<string, unknown>;
  const base = manifest.layers[0];
  const baseDiffId = config.rootfs.diff_ids[0];
  if (!base || !baseDiffId) throw new Error("the Debian test image has no base layer");
  const [alg, hex] = base.digest.split(":");
  await copyFile(path.join(debian.layoutDir, "blobs", alg!, hex!), path.join(layoutDir, "blobs", alg!, hex!));

  const images: FleetImage[] = [];
  for (let i = 0; i < count; i++) {
    const { gz, diffId } = await layerBlob([
      [`opt/fleet/app-${i}/VERSION`, Buffer.from(`app-${i} ${new Date(0).toISOString()}\n`)],
    ]);
    const top = await writeBlob(layoutDir, OCI_LAYER, gz);
    const imageConfig = await writeBlob(
      layoutDir,
      manifest.config.mediaType,
      Buffer.from(
        JSON.stringify({
          ...config,
          rootfs: { type: "layers", diff_ids: [baseDiffId, diffId] },
          history: [
            { created: "2025-08-12T00:00:00Z", created_by: "debian base" },
            { created: "2025-08-12T00:00:00Z", created_by: `app-${i}` },
          ],
        }),
      ),
    );
    const imageManifest = await writeBlob(
      layoutDir,
      OCI_MANIFEST,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: imageConfig,
          layers: [{ mediaType: base.mediaType, digest: base.digest, size: base.size }, top],
        }),
      ),
    );
    // one at a time: setTag rewrites index.json
    await setTag(layoutDir, `app-${i}`, imageManifest);
    images.push({
      source: `oci:${layoutDir}:app-${i}`,
      manifestDigest: imageManifest.digest,
      topLayer: top.digest,
    });
  }
  return { images, baseLayer: base.digest };
}
