import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root (the clone), found from this file's place in test/support/. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Third-party test data lives in `../shared/corpus/` beside the clone and is read in place, never
 * copied into the project. `PORTCULLIS_CORPUS` points elsewhere when the layout differs.
 */
export const CORPUS_ROOT = path.resolve(
  process.env.PORTCULLIS_CORPUS ?? path.join(REPO_ROOT, "../shared/corpus"),
);

/** Absolute path of a corpus file or folder; fails with a clear message when the corpus is missing. */
export function corpusPath(...parts: string[]): string {
  if (!existsSync(path.join(CORPUS_ROOT, "MANIFEST.md"))) {
    throw new Error(
      `the shared test corpus is missing at ${CORPUS_ROOT}: tests read third-party data from ../shared/corpus ` +
        "beside the clone (or set PORTCULLIS_CORPUS)",
    );
  }
  const target = path.join(CORPUS_ROOT, ...parts);
  if (!existsSync(target)) throw new Error(`corpus file not found: ${path.relative(CORPUS_ROOT, target)}`);
  return target;
}
