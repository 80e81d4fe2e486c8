import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  ADDED_PACKAGE,
  AMD64_TAG,
  type BuiltLayer,
  buildDebianImage,
  type DebianImageFacts,
  INDEX_TAG,
  RECIPE_VERSION,
  REMOVED_PACKAGE,
} from "./debian-image-recipe.js";
import { withDirLock } from "./dir-lock.js";
import type { DpkgPackage } from "./dpkg-list.js";
import { unmountUnder } from "./stale-mounts.js";

export type { BuiltLayer, DpkgPackage };

export const DEFAULT_TEST_CACHE = "/var/tmp/portcullis-test-cache";
const IMAGE_NAME = "debian-bookworm";
const FACTS_FILE = "image.json";

/**
 * A real Debian bookworm image built from Debian packages, and what dpkg says is in it: the
 * recipe's facts (layers base first, `dpkg-query` packages with their introducing layer, …) with
 * absolute paths and ready-made references.
 */
export interface DebianTestImage extends Omit<DebianImageFacts, "recipe" | "layout"> {
  /** the cache entry holding everything below */
  dir: string;
  /** OCI image layout: tag `indexTag` → two-platform image index, tag `amd64Tag` → the amd64 manifest */
  layoutDir: string;
  indexTag: string;
  amd64Tag: string;
  /** `oci:<layout>:bookworm` (the index) and `oci:<layout>:bookworm-amd64` */
  ociIndexRef: string;
  ociAmd64Ref: string;
  /** the package asked for in layer 2 (`addedPackages` also holds its dependencies) */
  addedPackage: string;
  /** the package purged in layer 3 */
  removedPackage: string;
}

export function testCacheRoot(): string {
  return path.join(process.env.PORTCULLIS_TEST_CACHE ?? DEFAULT_TEST_CACHE, RECIPE_VERSION);
}

async function loadCached(dir: string): Promise<DebianTestImage | undefined> {
  let facts: DebianImageFacts;
  try {
    facts = JSON.parse(await readFile(path.join(dir, FACTS_FILE), "utf8")) as DebianImageFacts;
  } catch {
    return undefined;
  }
  const { recipe: _recipe, layout, ...rest } = facts;
  const layoutDir = path.join(dir, layout);
  return {
    ...rest,
    dir,
    layoutDir,
    indexTag: INDEX_TAG,
    amd64Tag: AMD64_TAG,
    ociIndexRef: `oci:${layoutDir}:${INDEX_TAG}`,
    ociAmd64Ref: `oci:${layoutDir}:${AMD64_TAG}`,
    ociArchive: path.join(dir, facts.ociArchive),
    dockerArchive: path.join(dir, facts.dockerArchive),
    addedPackage: ADDED_PACKAGE,
    removedPackage: REMOVED_PACKAGE,
  };
}

let inProcess: Promise<DebianTestImage> | undefined;

/**
 * Returns the Debian test image, building it on first use (about a minute, needs root and a Debian
 * mirror) into `$PORTCULLIS_TEST_CACHE` (default /var/tmp/portcullis-test-cache)/<recipe>/; later
 * runs and other vitest workers reuse it.
 */
export function buildDebianTestImage(): Promise<DebianTestImage> {
  inProcess ??= loadOrBuild().catch((err: unknown) => {
    inProcess = undefined;
    throw err;
  });
  return inProcess;
}

async function loadOrBuild(): Promise<DebianTestImage> {
  const root = testCacheRoot();
  const dir = path.join(root, IMAGE_NAME);
  const cached = await loadCached(dir);
  if (cached) return cached;
  if (process.getuid?.() !== 0)
    throw new Error("building the Debian test image needs root (mmdebstrap --mode=root, chroot)");
  await mkdir(root, { recursive: true });
  return withDirLock(`${dir}.lock`, async () => {
    const built = await loadCached(dir);
    if (built) return built;
    // Under the lock, any earlier build dir is the leftover of an interrupted run.
    for (const entry of await readdir(root)) {
      if (entry.startsWith(`.build-${IMAGE_NAME}-`))
        await rm(path.join(root, entry), { recursive: true, force: true });
    }
    const work = await mkdtemp(path.join(root, `.build-${IMAGE_NAME}-`));
    try {
      const mirror = process.env.PORTCULLIS_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
      const facts = await buildDebianImage(work, mirror);
      await writeFile(path.join(work, FACTS_FILE), `${JSON.stringify(facts, null, 2)}\n`);
      await chmod(work, 0o755);
      // The cache entry appears whole or not at all.
      await rename(work, dir);
    } catch (err) {
      await unmountUnder(work);
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    const fresh = await loadCached(dir);
    if (!fresh) throw new Error(`built ${dir} but cannot read it back`);
    return fresh;
  });
}
