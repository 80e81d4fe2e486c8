import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { ScanError } from "../model/errors.js";
import type { LayoutStore } from "./layout-store.js";

/** An OCI layout directory on disk. */
export class DirectoryLayoutStore implements LayoutStore {
  readonly description: string;

  constructor(
    private readonly root: string,
    description = `oci:${root}`,
  ) {
    this.description = description;
  }

  async stat(name: string): Promise<{ size: number } | undefined> {
    try {
      const info = await stat(this.pathOf(name));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async read(name: string, maxBytes: number): Promise<Buffer> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.pathOf(name), "r");
    } catch (err) {
      if (isMissing(err)) throw notFound(this.description, name);
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) {
        throw new ScanError(
          "too-large",
          `${this.description}: ${name} is ${size} bytes, over the ${maxBytes}-byte limit`,
        );
      }
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buffer, 0, size, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async open(name: string): Promise<Readable> {
    const file = this.pathOf(name);
    if (!(await this.stat(name))) throw notFound(this.description, name);
    return createReadStream(file);
  }

  private pathOf(name: string): string {
    return path.join(this.root, ...name.split("/"));
  }
}

const isMissing = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
};

export function notFound(description: string, name: string): ScanError {
  return new ScanError("not-found", `${description}: no ${name}`);
}
