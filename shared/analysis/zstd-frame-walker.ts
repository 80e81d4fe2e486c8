/** zstd's own decoder refuses windows above 2^27 bytes unless told otherwise; so do we. */
export const MAX_ZSTD_WINDOW = 2 ** 27;

const ZSTD_MAGIC = 0xfd2fb528;
const RLE = 1;
const RESERVED = 3;

type State =
  | { at: "magic" }
  | { at: "frame-header"; need: number }
  | { at: "skippable-size" }
  | { at: "block-header" }
  | { at: "skip"; left: number; afterwards: "block-header" | "checksum" | "magic" }
  | { at: "checksum"; left: number };

/**
 * Walks a zstd stream's structure (frames, blocks, skippable frames) without decoding it, and cuts
 * each input chunk where a block ends, so a decoder fed the pieces one by one emits at most one
 * block (≤ 128 KiB) per piece and can wait for backpressure between them. Refuses frames whose
 * window is larger than `maxWindow`, before a decoder would allocate it.
 */
export class ZstdFrameWalker {
  private state: State = { at: "magic" };
  /** bytes of a header being collected across chunks (at most 18) */
  private header: number[] = [];
  private checksum = false;

  constructor(private readonly maxWindow = MAX_ZSTD_WINDOW) {}

  /** The chunk cut at every block or frame end; throws on a malformed or oversized frame. */
  split(chunk: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    let start = 0;
    let i = 0;
    while (i < chunk.length) {
      const s = this.state;
      if (s.at === "skip" || s.at === "checksum") {
        const take = Math.min(s.left, chunk.length - i);
        i += take;
        s.left -= take;
        if (s.left > 0) continue;
        this.state = s.at === "checksum" ? { at: "magic" } : this.after(s.afterwards);
      } else {
        this.header.push(chunk[i++]!);
        if (!this.headerComplete()) continue;
      }
      if (this.state.at === "block-header" || this.state.at === "magic") {
        pieces.push(chunk.subarray(start, i));
        start = i;
      }
    }
    if (start < chunk.length) pieces.push(chunk.subarray(start));
    return pieces;
  }

  /** Whether the stream ended between frames, as a complete zstd stream does. */
  get atFrameBoundary(): boolean {
    return this.state.at === "magic" && this.header.length === 0;
  }

  private after(next: "block-header" | "checksum" | "magic"): State {
    return next === "checksum" ? { at: "checksum", left: 4 } : { at: next };
  }

  /** Consumes `this.header` when it holds a whole header, moving to the next state. */
  private headerComplete(): boolean {
    const h = this.header;
    const s = this.state;
    if (s.at === "magic") {
      if (h.length < 4) return false;
      const magic = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
      if (magic === ZSTD_MAGIC) {
        this.state = { at: "frame-header", need: 5 };
        return false;
      }
      if (magic >>> 4 === 0x184d2a5) {
        this.state = { at: "skippable-size" };
        return false;
      }
      throw zstdFormatError(`not a zstd frame (magic 0x${magic.toString(16)})`);
    }
    if (s.at === "frame-header") {
      if (h.length < s.need) return false;
      const fhd = h[4]!;
      const singleSegment = (fhd & 0x20) !== 0;
      const fcsFlag = fhd >> 6;
      const dictBytes = [0, 1, 2, 4][fhd & 3]!;
      const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
      if ((fhd & 0x08) !== 0) throw zstdFormatError("reserved bit set in a frame header");
      const need = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
      if (h.length < need) {
        s.need = need;
        return false;
      }
      const window = singleSegment ? frameContentSize(h, 5 + dictBytes, fcsBytes) : windowSize(h[5]!);
      if (window > this.maxWindow)
        throw zstdFormatError(
          `frame declares a ${window}-byte window, more than the ${this.maxWindow} allowed`,
        );
      this.checksum = (fhd & 0x04) !== 0;
      this.header = [];
      this.state = { at: "block-header" };
      return true;
    }
    if (s.at === "skippable-size") {
      if (h.length < 8) return false;
      const left = (h[4]! | (h[5]! << 8) | (h[6]! << 16) | (h[7]! << 24)) >>> 0;
      this.header = [];
      this.state = left > 0 ? { at: "skip", left, afterwards: "magic" } : { at: "magic" };
      return true;
    }
    if (s.at === "block-header") {
      if (h.length < 3) return false;
      const bits = h[0]! | (h[1]! << 8) | (h[2]! << 16);
      const last = (bits & 1) === 1;
      const type = (bits >> 1) & 3;
      if (type === RESERVED) throw zstdFormatError("reserved block type");
      const size = type === RLE ? 1 : bits >>> 3;
      const afterwards = last ? (this.checksum ? "checksum" : "magic") : "block-header";
      this.header = [];
      this.state = size > 0 ? { at: "skip", left: size, afterwards } : this.after(afterwards);
      // the block ends with its content: the cut comes then, not now
      return this.state.at !== "skip" && (this.state.at === "block-header" || this.state.at === "magic");
    }
    return false;
  }
}

function windowSize(descriptor: number): number {
  const base = 2 ** (10 + (descriptor >> 3));
  return base + (base / 8) * (descriptor & 7);
}

function frameContentSize(h: number[], at: number, bytes: number): number {
  let size = 0;
  for (let i = bytes - 1; i >= 0; i--) size = size * 256 + h[at + i]!;
  return bytes === 2 ? size + 256 : size;
}

export function zstdFormatError(message: string): Error {
  return Object.assign(new Error(`zstd: ${message}`), { code: "ZSTD_CORRUPT" });
}
