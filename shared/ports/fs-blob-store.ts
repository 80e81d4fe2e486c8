import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BlobStore } from "./blob-store.js";
import { BlobKeyError } from "./blob-key-error.js";

/** Where half-written blobs wait for their rename; reserved, so never a key. */
const TMP_DIR = ".tmp";

/**
 * Checks a blob key: slash-separated relative names, no empty, `.` or `..` segments, no
 * backslashes or control characters — the same rules for every adapter, so a key that works
 * in the CLI cache works in Azure too.
 */
export function assertBlobKey(key: string): void {
  const bad =
    key === "" ||
    key.length > 1024 ||
    key.startsWith("/") ||
    /[\\\u0000-\u001f]/.test(key) ||
    key.split("/").some((s) => s === "" || s === "." || s === "..");
  if (bad) throw new BlobKeyError(`invalid blob key: ${JSON.stringify(key)}`);
}

/** The CLI cache directory as a BlobStore: one file per key, written via temp file + rename. */
export class FsBlobStore implements BlobStore {
  private readonly root: string;

  constructor(rootDir: string) {
    this.root = path.resolve(rootDir);
  }

  private file(key: string): string {
    assertBlobKey(key);
    if (key.split("/")[0] === TMP_DIR)
      throw new BlobKeyError(`invalid blob key: ${JSON.stringify(key)} (reserved)`);
    return path.join(this.root, ...key.split("/"));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, data: Buffer | string, _options?: { contentType?: string }): Promise<void> {
    const target = this.file(key);
    const tmpDir = path.join(this.root, TMP_DIR);
    await Promise.all([mkdir(path.dirname(target), { recursive: true }), mkdir(tmpDir, { recursive: true })]);
    const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
    try {
      await writeFile(tmp, data);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.file(key));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  /** Keys starting with `prefix` (a string prefix, not only a directory), in lexicographic order. */
  async *list(prefix: string): AsyncIterable<string> {
    // start the walk at the deepest directory the prefix names
    const dirPart = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (dirPart !== "") assertBlobKey(dirPart);
    const keys: string[] = [];
    await this.walk(dirPart, prefix, keys);
    yield* keys.sort();
  }

  private async walk(dirKey: string, prefix: string, into: string[]): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dirKey ? path.join(this.root, ...dirKey.split("/")) : this.root, {
        withFileTypes: true,
      });
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw err;
    }
    for (const entry of entries) {
      const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
      if (key === TMP_DIR) continue;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.walk(key, prefix, into);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        into.push(key);
      }
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
