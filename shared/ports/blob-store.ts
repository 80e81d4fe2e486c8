/**
 * Content-addressed and named blobs: layer reports, inventories, reports, the vulnerability DB.
 * Adapters: the filesystem (CLI cache dir) and Azure Blob Storage.
 * Keys are slash-separated relative names ("layers/sha256/<hex>/<analyzer-set>.json").
 */
export interface BlobStore {
  get(key: string): Promise<Buffer | undefined>;
  /** Writes atomically: a reader sees the old content or the new, never a part. */
  put(key: string, data: Buffer | string, options?: { contentType?: string }): Promise<void>;
  /** Several blobs in one commit, all or none (the local store: one fsync instead of one per blob). */
  putMany?(blobs: readonly BlobWrite[]): Promise<void>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<string>;
}

export interface BlobWrite {
  key: string;
  data: Buffer | string;
  contentType?: string;
}

/** Writes every blob: in one commit where the store can, else one after the other, in order. */
export async function putBlobs(store: BlobStore, blobs: readonly BlobWrite[]): Promise<void> {
  if (store.putMany) return store.putMany(blobs);
  for (const { key, data, contentType } of blobs)
    await store.put(key, data, contentType ? { contentType } : undefined);
}
