import { Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";

/** The parts of node:zlib's Gunzip this drives: its native handle, as node's own sync path does. */
export interface ZlibInternals {
  _handle?: {
    writeSync(
      flush: number,
      input: Buffer,
      inOff: number,
      inLen: number,
      out: Buffer,
      outOff: number,
      outLen: number,
    ): void;
    onerror: (message: string, errno: number, code?: string) => void;
    reset(): void;
  };
  /** [avail_out, avail_in] after each write */
  _writeState?: Uint32Array;
}

/** A filled output buffer and the stream offset its last byte ends at. */
interface Retired {
  buffer: Buffer;
  end: number;
}

// filled buffers remembered for reuse, and reusable ones kept: a jar read whole holds many at once,
// and those past the bound are left to the garbage collector as node's own would be
const MAX_RETIRED = 64;
const MAX_FREE = 32;
const EMPTY = Buffer.alloc(0);

/**
 * gunzip whose output chunks come from buffers the reader hands back (`release`), instead of a fresh
 * 128 KiB buffer per chunk: V8 counts every fresh buffer as external memory, and a layer's hundreds of
 * MB of them start mark-compact after mark-compact once the young generation has grown. It inflates
 * through the same native zlib handle node's Gunzip uses (multi-member streams, trailing garbage and
 * errors as node has them), synchronously per input chunk.
 */
export class RecyclingGunzip extends Transform {
  private readonly zlibStream: zlib.Gunzip;
  private readonly handle: NonNullable<ZlibInternals["_handle"]>;
  private readonly state: Uint32Array;
  private error: Error | undefined;
  private ended = false;
  private out: Buffer;
  private outOffset = 0;
  /** decompressed bytes pushed so far: the stream offset of `out[outOffset]` */
  private offset = 0;
  private readonly retired: Retired[] = [];
  private readonly free: Buffer[] = [];

  /** `undefined` when this runtime's zlib has no native handle to drive (use node's Gunzip). */
  static create(chunkSize: number): RecyclingGunzip | undefined {
    const gunzip = zlib.createGunzip({ chunkSize });
    const internals = gunzip as unknown as ZlibInternals;
    if (
      typeof internals._handle?.writeSync !== "function" ||
      !(internals._writeState instanceof Uint32Array)
    ) {
      gunzip.destroy();
      return undefined;
    }
    return new RecyclingGunzip(gunzip, chunkSize);
  }

  private constructor(
    zlibStream: zlib.Gunzip,
    private readonly chunkSize: number,
  ) {
    super();
    this.zlibStream = zlibStream;
    const internals = zlibStream as unknown as Required<ZlibInternals>;
    this.handle = internals._handle!;
    this.state = internals._writeState;
    // the handle reports errors synchronously through this during writeSync
    this.handle.onerror = (message, errno, code) => {
      this.error = Object.assign(new Error(message), { errno, code });
    };
    this.out = Buffer.allocUnsafeSlow(chunkSize);
  }

  /** The reader no longer holds any byte before stream `offset`: buffers wholly before it are reused. */
  release(offset: number): void {
    while (this.retired.length > 0 && this.retired[0]!.end <= offset) {
      const { buffer } = this.retired.shift()!;
      if (this.free.length < MAX_FREE) this.free.push(buffer);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(this.inflate(chunk, zlib.constants.Z_NO_FLUSH));
  }

  override _flush(callback: TransformCallback): void {
    const error = this.inflate(EMPTY, zlib.constants.Z_FINISH);
    // the native zlib state is freed now, not when the collector finds the handle
    this.zlibStream.destroy();
    callback(error);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.zlibStream.destroy();
    callback(err);
  }

  private inflate(input: Buffer, flush: number): Error | undefined {
    // past the end of the gzip stream: node's Gunzip ignores what follows too
    if (this.ended) return undefined;
    let inOffset = 0;
    let inLeft = input.length;
    for (;;) {
      const outLeft = this.chunkSize - this.outOffset;
      this.handle.writeSync(flush, input, inOffset, inLeft, this.out, this.outOffset, outLeft);
      if (this.error) return this.error;
      const [outAfter, inAfter] = [this.state[0]!, this.state[1]!];
      const have = outLeft - outAfter;
      if (have > 0) {
        this.push(this.out.subarray(this.outOffset, this.outOffset + have));
        this.outOffset += have;
        this.offset += have;
      }
      inOffset += inLeft - inAfter;
      inLeft = inAfter;
      if (outAfter === 0) {
        this.retire();
        continue;
      }
      // output room left and input unread: the stream ended before its input did
      if (inLeft > 0) this.ended = true;
      return undefined;
    }
  }

  /** `out` is full: it waits for `release` past its end, and the next one is taken. */
  private retire(): void {
    this.retired.push({ buffer: this.out, end: this.offset });
    if (this.retired.length > MAX_RETIRED) this.retired.shift();
    this.out = this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
    this.outOffset = 0;
  }
}
