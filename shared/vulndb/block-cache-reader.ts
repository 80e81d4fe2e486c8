import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { ZipReadError } from "./zip-read-error.js";

const BLOCK_BYTES = 1024 * 1024;
const CACHED_BLOCKS = 8;

/**
 * A zip file read in 1 MiB blocks with a small LRU: yauzl asks for a few dozen bytes at a time (each
 * central-directory record, each local header), and an export has ~100,000 entries — one file read
 * per request leaves the process waiting on the thread pool; blocks serve them from memory.
 * Memory is bounded by CACHED_BLOCKS × BLOCK_BYTES whatever the zip's size.
 */
export class BlockCacheReader extends yauzl.RandomAccessReader {
  readonly #file: FileHandle;
  readonly #size: number;
  readonly #blocks = new Map<number, Promise<Buffer>>();

  constructor(file: FileHandle, size: number) {
    super();
    this.#file = file;
    this.#size = size;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const self = this;
    async function* bytes(): AsyncGenerator<Buffer> {
      let position = start;
      while (position < end) {
        const index = Math.floor(position / BLOCK_BYTES);
        const block = await self.#block(index);
        const from = position - index * BLOCK_BYTES;
        const to = Math.min(block.length, end - index * BLOCK_BYTES);
        if (to <= from)
          throw new ZipReadError("truncated", `zip read past the end of the file at ${position}`);
        yield block.subarray(from, to);
        position = index * BLOCK_BYTES + to;
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  override close(callback: (err: Error | null) => void): void {
    this.#file.close().then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }

  #block(index: number): Promise<Buffer> {
    const cached = this.#blocks.get(index);
    if (cached) {
      // most recently used goes to the end of the Map's order
      this.#blocks.delete(index);
      this.#blocks.set(index, cached);
      return cached;
    }
    const offset = index * BLOCK_BYTES;
    const length = Math.max(0, Math.min(BLOCK_BYTES, this.#size - offset));
    const read = this.#file
      .read(Buffer.allocUnsafe(length), 0, length, offset)
      .then(({ buffer, bytesRead }) => buffer.subarray(0, bytesRead));
    this.#blocks.set(index, read);
    if (this.#blocks.size > CACHED_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value as number);
    return read;
  }
}
