import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import {
  OCI_INDEX,
  OCI_MANIFEST,
  type OciDescriptor,
  setTag,
  writeBlob,
} from "../../support/oci-platform-index.js";
import { buildHiveWithHivex } from "./hivexregedit.js";
import type { RegKey } from "./reg-file.js";

const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
// skopeo's OCI layout reader takes OCI manifests only; `skopeo copy --format v2s2` turns this into
// the Docker foreign layer (application/vnd.docker.image.rootfs.foreign.diff.tar.gzip) on push
const OCI_NONDISTRIBUTABLE_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/** One Windows layer: files under Files/ (the C: drive) and the SOFTWARE keys its hive delta writes. */
export interface WindowsLayerSpec {
  /** paths below C:\ ("Program Files/dotnet/…") → content */
  files?: Record<string, string | Buffer>;
  software?: RegKey[];
  /** the other hive deltas a Server Core layer carries (the configuration audit reads SYSTEM and SAM) */
  system?: RegKey[];
  sam?: RegKey[];
  security?: RegKey[];
  defaultUser?: RegKey[];
}

export interface WindowsImageSpec {
  /** the config's os.version: 10.0.<build>.<UBR> */
  osVersion: string;
  layers: WindowsLayerSpec[];
  /** the config's `config` (User, Healthcheck …); default a cmd entry point */
  runConfig?: Record<string, unknown>;
  /**
   * A foreign base layer below `layers` (as older images point at mcr.microsoft.com): its blob is
   * not in the layout, only its descriptor with `urls`.
   */
  foreignBase?: {
    repository: "servercore" | "nanoserver" | "server";
    /** what the base layer holds (default: one placeholder file, no hive) */
    layer?: WindowsLayerSpec;
    /** where its descriptor says the blob lives (default: mcr.microsoft.com's blob URL) */
    url?: (digest: string) => string;
  };
}

export interface BuiltImage {
  manifest: OciDescriptor;
  layers: string[];
  /** the foreign base layer's blob, which the layout does not hold: for a test server to serve */
  foreignBlob?: Buffer;
}

/** The SOFTWARE keys a Windows base layer writes for its OS build (what winver reads). */
export function currentVersionKeys(options: {
  build: number;
  ubr: number;
  installationType: "Server Core" | "Nano Server" | "Server" | "Client";
  productName: string;
  displayVersion?: string;
}): RegKey[] {
  return [
    {
      path: ["Microsoft", "Windows NT", "CurrentVersion"],
      values: [
        { name: "CurrentBuildNumber", string: String(options.build) },
        { name: "CurrentBuild", string: String(options.build) },
        { name: "UBR", dword: options.ubr },
        { name: "ProductName", string: options.productName },
        {
          name: "EditionID",
          string: options.installationType === "Client" ? "Professional" : "ServerDatacenter",
        },
        { name: "InstallationType", string: options.installationType },
        { name: "DisplayVersion", string: options.displayVersion ?? "24H2" },
      ],
    },
  ];
}

/** An Uninstall entry, as an installer's layer writes it. */
export function uninstallKey(key: string, name: string, version: string, publisher: string): RegKey {
  return {
    path: ["Microsoft", "Windows", "CurrentVersion", "Uninstall", key],
    values: [
      { name: "DisplayName", string: name },
      { name: "DisplayVersion", string: version },
      { name: "Publisher", string: publisher },
    ],
  };
}

/** Creates an empty OCI layout (oci-layout, blobs/sha256, index.json). */
export async function initLayout(layoutDir: string): Promise<void> {
  await mkdir(path.join(layoutDir, "blobs", "sha256"), { recursive: true });
  await writeFile(path.join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(path.join(layoutDir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));
}

/** A tar of entries (directories implied by their files), gzipped; with the diff_id of the tar. */
export async function layerBlob(entries: [string, Buffer][]): Promise<{ gz: Buffer; diffId: string }> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    tar.on("end", resolve);
    tar.on("error", reject);
  });
  const dirs = new Set<string>();
  for (const [name] of entries) {
    const parts = name.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const mtime = new Date("2025-08-12T00:00:00Z");
  for (const dir of [...dirs].sort()) tar.entry({ name: `${dir}/`, type: "directory", mtime });
  for (const [name, content] of entries) tar.entry({ name, size: content.length, mtime }, content);
  tar.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return { gz: gzipSync(raw), diffId: `sha256:${createHash("sha256").update(raw).digest("hex")}` };
}

/** The entries of one Windows layer: Files/… and, when it writes keys, Hives/Software_Delta built with hivex. */
export function windowsLayerEntries(spec: WindowsLayerSpec): [string, Buffer][] {
  const entries: [string, Buffer][] = Object.entries(spec.files ?? {}).map(([p, c]) => [
    `Files/${p}`,
    Buffer.isBuffer(c) ? c : Buffer.from(c),
  ]);
  if (spec.software !== undefined && spec.software.length > 0)
    entries.push(["Hives/Software_Delta", buildHiveWithHivex("ROOT", spec.software).hive]);
  const others: [string, RegKey[] | undefined][] = [
    ["Hives/System_Delta", spec.system],
    ["Hives/Sam_Delta", spec.sam],
    ["Hives/Security_Delta", spec.security],
    ["Hives/DefaultUser_Delta", spec.defaultUser],
  ];
  for (const [name, keys] of others)
    if (keys !== undefined && keys.length > 0) entries.push([name, buildHiveWithHivex("ROOT", keys).hive]);
  return entries;
}

/** Writes a Windows image (config os: windows, os.version, rootfs.diff_ids) into an OCI layout and tags it. */
export async function writeWindowsImage(
  layoutDir: string,
  tag: string,
  spec: WindowsImageSpec,
): Promise<BuiltImage> {
  const layers: OciDescriptor[] = [];
  const diffIds: string[] = [];
  let foreignBlob: Buffer | undefined;
  if (spec.foreignBase) {
    const { repository, layer, url } = spec.foreignBase;
    const { gz, diffId } = await layerBlob(
      layer ? windowsLayerEntries(layer) : [["Files/Windows/System32/placeholder.txt", Buffer.from("base")]],
    );
    const digest = `sha256:${createHash("sha256").update(gz).digest("hex")}`;
    layers.push({
      mediaType: OCI_NONDISTRIBUTABLE_LAYER,
      digest,
      size: gz.length,
      urls: [url ? url(digest) : `https://mcr.microsoft.com/v2/windows/${repository}/blobs/${digest}`],
    } as OciDescriptor);
    diffIds.push(diffId);
    foreignBlob = gz;
  }
  for (const layer of spec.layers) {
    const { gz, diffId } = await layerBlob(windowsLayerEntries(layer));
    layers.push(await writeBlob(layoutDir, OCI_LAYER, gz));
    diffIds.push(diffId);
  }
  const manifest = await writeTaggedImage(layoutDir, tag, layers, {
    architecture: "amd64",
    os: "windows",
    "os.version": spec.osVersion,
    config: spec.runConfig ?? { Cmd: ["cmd", "/S", "/C", "echo", "hello"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: layers.map(() => ({ created: "2025-08-12T00:00:00Z", created_by: "test layer" })),
  });
  return { manifest, layers: layers.map((l) => l.digest), ...(foreignBlob ? { foreignBlob } : {}) };
}

/** A minimal Alpine image (just its os-release), to sit next to a Windows image in an index. */
export async function writeLinuxImage(layoutDir: string, tag: string): Promise<BuiltImage> {
  const { gz, diffId } = await layerBlob([
    ["etc/os-release", Buffer.from('ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n')],
  ]);
  const layer = await writeBlob(layoutDir, OCI_LAYER, gz);
  const manifest = await writeTaggedImage(layoutDir, tag, [layer], {
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [diffId] },
  });
  return { manifest, layers: [layer.digest] };
}

/** Writes the config and the manifest over `layers` into the layout, tagged `tag`. */
async function writeTaggedImage(
  layoutDir: string,
  tag: string,
  layers: OciDescriptor[],
  config: Record<string, unknown>,
): Promise<OciDescriptor> {
  const configBlob = await writeBlob(layoutDir, OCI_CONFIG, Buffer.from(JSON.stringify(config)));
  const manifest = await writeBlob(
    layoutDir,
    OCI_MANIFEST,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configBlob, layers })),
  );
  await setTag(layoutDir, tag, manifest);
  return manifest;
}

/** An image index over platform images (Windows entries carry os.version, as real indexes do). */
export async function writeImageIndex(
  layoutDir: string,
  tag: string,
  entries: {
    manifest: OciDescriptor;
    platform: { os: string; architecture: string; "os.version"?: string };
  }[],
): Promise<OciDescriptor> {
  const index = await writeBlob(
    layoutDir,
    OCI_INDEX,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: entries.map(({ manifest, platform }) => ({
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.size,
          platform,
        })),
      }),
    ),
  );
  await setTag(layoutDir, tag, index);
  return index;
}
