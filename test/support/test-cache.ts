import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_TEST_CACHE } from "./debian-image.js";
import { withDirLock } from "./dir-lock.js";

/**
 * A test artifact built once per machine under `$PORTCULLIS_TEST_CACHE/<recipe>`: read when there,
 * otherwise built (under a lock, so parallel workers build it once) into a temporary directory that
 * is renamed into place only when complete — an interrupted build leaves nothing half-made.
 */
export async function cachedTestBuild<T>(
  recipe: string,
  load: (dir: string) => Promise<T | undefined>,
  build: (work: string) => Promise<void>,
): Promise<T> {
  const root = process.env.PORTCULLIS_TEST_CACHE ?? DEFAULT_TEST_CACHE;
  const dir = path.join(root, recipe);
  const cached = await load(dir);
  if (cached) return cached;
  await mkdir(root, { recursive: true });
  return withDirLock(`${dir}.lock`, async () => {
    const built = await load(dir);
    if (built) return built;
    const work = await mkdtemp(path.join(root, `.build-${recipe}-`));
    try {
      await build(work);
      await rename(work, dir);
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    const fresh = await load(dir);
    if (!fresh) throw new Error(`built ${dir} but cannot read it back`);
    return fresh;
  });
}

/** One build per process: concurrent callers share it, a failed one is tried again by the next caller. */
export function oncePerProcess<T>(make: () => Promise<T>): () => Promise<T> {
  let inProcess: Promise<T> | undefined;
  return () => {
    inProcess ??= make().catch((err: unknown) => {
      inProcess = undefined;
      throw err;
    });
    return inProcess;
  };
}
