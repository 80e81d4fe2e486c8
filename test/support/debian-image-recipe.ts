import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { type DpkgPackage, dpkgList } from "./dpkg-list.js";
import { findTag, readBlob, setTag, writeTwoPlatformIndex } from "./oci-platform-index.js";
import { runTool } from "./run-tool.js";

/** Bump when the recipe below changes what it builds: the cache is keyed by it. */
export const RECIPE_VERSION = "debian-bookworm-v2";
export const SUITE = "bookworm";
/** Installed in layer 2 (with its library dependencies libjq1, libonig5: source names differ). */
export const ADDED_PACKAGE = "jq";
/** Purged in layer 3, so that layer carries whiteouts for /usr/share/zoneinfo and a rewritten dpkg status. */
export const REMOVED_PACKAGE = "tzdata";
export const INDEX_TAG = "bookworm";
export const AMD64_TAG = "bookworm-amd64";

export interface BuiltLayer {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
  createdBy: string;
}

/** What the recipe records about the image it built (paths relative to the build dir). */
export interface DebianImageFacts {
  recipe: string;
  mirror: string;
  /** /etc/debian_version of the final rootfs, e.g. "12.12" */
  debianVersion: string;
  layout: string;
  /** a tar of the layout (both tags), for `oci-archive:` */
  ociArchive: string;
  /** `skopeo copy` of the amd64 image to `docker-archive:` (layers stored uncompressed, named by diff id) */
  dockerArchive: string;
  indexDigest: string;
  /** linux/amd64 (the real image) and linux/arm64/v8 (its own config, the same layers) */
  platforms: { platform: string; manifestDigest: string; configDigest: string }[];
  /** base first: mmdebstrap minbase, + ADDED_PACKAGE, − REMOVED_PACKAGE */
  layers: BuiltLayer[];
  /** the final rootfs, as dpkg-query lists it, each with the index of the layer that introduced it */
  packages: (DpkgPackage & { layerIndex: number })[];
  /** every package layer 2 added, and every package layer 3 took away */
  addedPackages: string[];
  removedPackages: string[];
}

const CHROOT_ENV = { DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const DEV_NODES: [string, string, string][] = [
  ["null", "1", "3"],
  ["zero", "1", "5"],
  ["random", "1", "8"],
  ["urandom", "1", "9"],
];

function chroot(rootfs: string, args: string[]): Promise<unknown> {
  return runTool("chroot", [rootfs, ...args], { env: CHROOT_ENV });
}

async function emptyDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
}

/** Device nodes exist only while a step runs in the chroot: images ship an empty /dev. */
async function withDevNodes<T>(rootfs: string, fn: () => Promise<T>): Promise<T> {
  const dev = path.join(rootfs, "dev");
  await mkdir(dev, { recursive: true });
  for (const [name, major, minor] of DEV_NODES)
    await runTool("mknod", ["-m", "666", path.join(dev, name), "c", major, minor]);
  try {
    return await fn();
  } finally {
    await emptyDir(dev);
  }
}

async function repack(layout: string, bundle: string, createdBy: string): Promise<void> {
  await runTool("umoci", [
    "repack",
    "--refresh-bundle",
    "--history.created_by",
    createdBy,
    "--history.created",
    "2024-01-01T00:00:00Z",
    "--image",
    `${layout}:${AMD64_TAG}`,
    bundle,
  ]);
}

function introducedIn(pkg: DpkgPackage, snapshots: DpkgPackage[][]): number {
  const i = snapshots.findIndex((s) => s.some((p) => p.name === pkg.name && p.version === pkg.version));
  if (i < 0) throw new Error(`package ${pkg.name} ${pkg.version} not seen in any layer`);
  return i;
}

/**
 * Builds the three-layer bookworm image into `work` (needs root, mmdebstrap, umoci, skopeo and a
 * Debian mirror) and returns its facts; the unpacked rootfs is removed afterwards.
 */
export async function buildDebianImage(work: string, mirror: string): Promise<DebianImageFacts> {
  const layout = path.join(work, "layout");
  const bundle = path.join(work, "bundle");
  const rootfs = path.join(bundle, "rootfs");
  const ref = `${layout}:${AMD64_TAG}`;
  await runTool("umoci", ["init", "--layout", layout]);
  await runTool("umoci", ["new", "--image", ref]);
  await runTool("umoci", [
    "config",
    "--no-history",
    "--image",
    ref,
    "--os",
    "linux",
    "--architecture",
    "amd64",
    "--config.cmd",
    "/bin/bash",
    "--config.env",
    `PATH=${CHROOT_ENV.PATH}`,
  ]);
  await runTool("umoci", ["unpack", "--image", ref, bundle]);

  const step1 = `mmdebstrap --variant=minbase ${SUITE}`;
  await runTool(
    "mmdebstrap",
    ["--variant=minbase", "--mode=root", "--format=directory", SUITE, rootfs, mirror],
    {
      timeoutMs: 15 * 60_000,
    },
  );
  await emptyDir(path.join(rootfs, "dev"));
  const snapshots = [await dpkgList(rootfs)];
  await repack(layout, bundle, step1);

  const step2 = `apt-get install -y --no-install-recommends ${ADDED_PACKAGE}`;
  await withDevNodes(rootfs, async () => {
    await chroot(rootfs, ["apt-get", "update", "-q"]);
    await chroot(rootfs, ["apt-get", "install", "-y", "-q", "--no-install-recommends", ADDED_PACKAGE]);
    await chroot(rootfs, ["apt-get", "clean"]);
  });
  const lists = path.join(rootfs, "var/lib/apt/lists");
  for (const f of await readdir(lists)) if (f.includes("_")) await rm(path.join(lists, f), { force: true });
  snapshots.push(await dpkgList(rootfs));
  await repack(layout, bundle, step2);

  const step3 = `dpkg --purge ${REMOVED_PACKAGE}`;
  await withDevNodes(rootfs, () => chroot(rootfs, ["dpkg", "--purge", REMOVED_PACKAGE]));
  const final = await dpkgList(rootfs);
  const debianVersion = (await readFile(path.join(rootfs, "etc/debian_version"), "utf8")).trim();
  snapshots.push(final);
  await repack(layout, bundle, step3);
  await rm(bundle, { recursive: true, force: true });
  await runTool("umoci", ["gc", "--layout", layout]);

  const amd64 = await findTag(layout, AMD64_TAG);
  const manifest = JSON.parse((await readBlob(layout, amd64.digest)).toString()) as {
    config: { digest: string };
    layers: { digest: string; size: number; mediaType: string }[];
  };
  const config = JSON.parse((await readBlob(layout, manifest.config.digest)).toString()) as {
    rootfs: { diff_ids: string[] };
  };
  const createdBy = [step1, step2, step3];
  const layers = manifest.layers.map((l, i) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
    diffId: config.rootfs.diff_ids[i]!,
    createdBy: createdBy[i]!,
  }));
  if (layers.length !== 3) throw new Error(`expected 3 layers, umoci wrote ${layers.length}`);

  const multi = await writeTwoPlatformIndex(layout, amd64);
  await setTag(layout, INDEX_TAG, multi.index);

  const ociArchive = "bookworm.oci.tar";
  const dockerArchive = "bookworm.docker.tar";
  await runTool("tar", [
    "--format=ustar",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--sort=name",
    "-C",
    layout,
    "-cf",
    path.join(work, ociArchive),
    "oci-layout",
    "index.json",
    "blobs",
  ]);
  await runTool("skopeo", [
    "copy",
    "--quiet",
    `oci:${ref}`,
    `docker-archive:${path.join(work, dockerArchive)}:portcullis/debian:${SUITE}`,
  ]);

  const before = new Set(snapshots[0]!.map((p) => p.name));
  const afterAdd = new Set(snapshots[1]!.map((p) => p.name));
  const finalNames = new Set(final.map((p) => p.name));
  return {
    recipe: RECIPE_VERSION,
    mirror,
    debianVersion,
    layout: "layout",
    ociArchive,
    dockerArchive,
    indexDigest: multi.index.digest,
    platforms: multi.platforms.map((p) => ({
      platform: p.platform,
      manifestDigest: p.manifest.digest,
      configDigest: p.configDigest,
    })),
    layers,
    packages: final.map((p) => ({ ...p, layerIndex: introducedIn(p, snapshots) })),
    addedPackages: [...afterAdd].filter((n) => !before.has(n)).sort(),
    removedPackages: [...afterAdd].filter((n) => !finalNames.has(n)).sort(),
  };
}
