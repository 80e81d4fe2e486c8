import { Transform, type TransformCallback } from "node:stream";
import { Decompress } from "fzstd";
import { MAX_ZSTD_WINDOW, ZstdFrameWalker, zstdFormatError } from "./zstd-frame-walker.js";

/**
 * fzstd's push-style decoder as a Transform that honours backpressure: each input chunk is cut at
 * block ends, and the next piece is decoded only once the reader has taken what the last one made.
 * fzstd decodes a whole pushed chunk at once (a 64 KiB chunk of RLE blocks is 2 GiB), so without
 * this the byte limit downstream would be checked only after the memory was spent.
 */
export class FzstdStream extends Transform {
  private readonly walker: ZstdFrameWalker;
  private readonly decoder = new Decompress((data) => {
    if (data.length === 0) return;
    if (!this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) this.full = true;
  });
  private full = false;
  private pending: { pieces: Buffer[]; next: number; callback: TransformCallback } | undefined;

  constructor(options: { maxWindow?: number; chunkSize?: number } = {}) {
    super({ readableHighWaterMark: options.chunkSize ?? 128 * 1024 });
    this.walker = new ZstdFrameWalker(options.maxWindow ?? MAX_ZSTD_WINDOW);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending = { pieces: this.walker.split(chunk), next: 0, callback };
    } catch (err) {
      callback(asZstdError(err));
      return;
    }
    this.decodePending();
  }

  override _read(size: number): void {
    this.full = false;
    if (this.pending) this.decodePending();
    else super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.walker.atFrameBoundary) throw zstdFormatError("stream ends inside a frame");
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (err) {
      callback(asZstdError(err));
    }
  }

  /** Decodes pieces until the reader's buffer is full or the chunk is done. */
  private decodePending(): void {
    const pending = this.pending;
    if (!pending) return;
    try {
      while (pending.next < pending.pieces.length) {
        if (this.destroyed) return;
        if (this.full) return; // _read resumes
        this.decoder.push(pending.pieces[pending.next++]!);
      }
    } catch (err) {
      this.pending = undefined;
      pending.callback(asZstdError(err));
      return;
    }
    this.pending = undefined;
    pending.callback();
  }
}

function asZstdError(err: unknown): Error {
  if (err instanceof Error && (err as { code?: string }).code === "ZSTD_CORRUPT") return err;
  return zstdFormatError(err instanceof Error ? err.message : String(err));
}
