/**
 * Content-addressed and named blobs: layer reports, inventories, reports, the vulnerability DB.
 * Adapters: the filesystem (CLI cache dir) and Azure Blob Storage.
 * Keys are slash-separated relative names ("layers/sha256/<hex>/<analyzer-set>.json").
 */
export interface BlobStore {
  get(key: string): Promise<Buffer | undefined>;
  /** Writes atomically: a reader sees the old content or the new, never a part. */
  put(key: string, data: Buffer | string, options?: { contentType?: string }): Promise<void>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<string>;
}
