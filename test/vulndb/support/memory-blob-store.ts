import type { BlobStore } from "../../../shared/ports/blob-store.js";

/** The BlobStore port in a Map, counting writes so tests can see what an update cost. */
export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Buffer>();
  puts = 0;

  async get(key: string): Promise<Buffer | undefined> {
    return this.blobs.get(key);
  }
  async put(key: string, data: Buffer | string): Promise<void> {
    this.puts++;
    this.blobs.set(key, Buffer.isBuffer(data) ? data : Buffer.from(data));
  }
  async has(key: string): Promise<boolean> {
    return this.blobs.has(key);
  }
  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
  async *list(prefix: string): AsyncIterable<string> {
    for (const key of [...this.blobs.keys()].sort()) if (key.startsWith(prefix)) yield key;
  }
}
