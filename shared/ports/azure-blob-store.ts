import type { ContainerClient } from "@azure/storage-blob";
import type { BlobStore } from "./blob-store.js";
import { assertBlobKey } from "./fs-blob-store.js";

/** Azure Blob Storage as a BlobStore: one block blob per key in one container (created when missing). */
export class AzureBlobStore implements BlobStore {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly container: ContainerClient) {}

  private ensureContainer(): Promise<unknown> {
    this.ready ??= this.container.createIfNotExists().catch((err: unknown) => {
      this.ready = undefined; // let the next call try again
      throw err;
    });
    return this.ready;
  }

  private blob(key: string) {
    assertBlobKey(key);
    return this.container.getBlockBlobClient(key);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const blob = this.blob(key);
    await this.ensureContainer();
    try {
      return await blob.downloadToBuffer();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** One Put Blob request: Azure commits it whole or not at all. */
  async put(key: string, data: Buffer | string, options?: { contentType?: string }): Promise<void> {
    const blob = this.blob(key);
    await this.ensureContainer();
    const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await blob.upload(body, body.length, {
      ...(options?.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
    });
  }

  async has(key: string): Promise<boolean> {
    const blob = this.blob(key);
    await this.ensureContainer();
    return blob.exists();
  }

  async delete(key: string): Promise<void> {
    const blob = this.blob(key);
    await this.ensureContainer();
    await blob.deleteIfExists();
  }

  async *list(prefix: string): AsyncIterable<string> {
    await this.ensureContainer();
    for await (const item of this.container.listBlobsFlat({ prefix })) yield item.name;
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}
