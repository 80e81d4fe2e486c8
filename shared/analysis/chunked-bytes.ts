/**
 * A file held as the chunks the layer walk received it in, read by offset: a range inside one chunk
 * is a view of it, a range across chunks a copy of just that range. A jar is read from its tail (the
 * central directory) and a few entries, a binary from its section table or one marker, so neither is
 * ever joined into one buffer.
 */
export class ChunkedBytes {
  readonly length: number;
  private readonly chunks: readonly Buffer[];
  /** where each chunk starts in the file */
  private readonly starts: number[];

  constructor(chunks: readonly Buffer[]) {
    this.chunks = chunks.filter((c) => c.length > 0);
    this.starts = [];
    let at = 0;
    for (const chunk of this.chunks) {
      this.starts.push(at);
      at += chunk.length;
    }
    this.length = at;
  }

  static of(content: Buffer | ChunkedBytes): ChunkedBytes {
    return content instanceof ChunkedBytes ? content : new ChunkedBytes([content]);
  }

  /** Bytes `start` to `end` (within `0..length`, which the caller checks). */
  slice(start: number, end: number): Buffer {
    if (start < 0 || end > this.length || start > end)
      throw new RangeError(`range ${start}..${end} out of bounds`);
    if (start === end) return Buffer.alloc(0);
    let i = this.chunkAt(start);
    const first = this.chunks[i]!;
    const from = start - this.starts[i]!;
    if (end - this.starts[i]! <= first.length) return first.subarray(from, end - this.starts[i]!);
    const out = Buffer.allocUnsafe(end - start);
    let written = first.copy(out, 0, from);
    while (written < out.length) written += this.chunks[++i]!.copy(out, written, 0, out.length - written);
    return out;
  }

  /** Copies bytes `start` to `end` into `target` at `at` (as `Buffer.copy`); returns how many. */
  copy(target: Buffer, at: number, start: number, end: number): number {
    if (start < 0 || end > this.length || start > end)
      throw new RangeError(`range ${start}..${end} out of bounds`);
    let written = 0;
    for (let i = start < end ? this.chunkAt(start) : this.chunks.length; start + written < end; i++) {
      const from = start + written - this.starts[i]!;
      written += this.chunks[i]!.copy(
        target,
        at + written,
        from,
        Math.min(this.chunks[i]!.length, end - this.starts[i]!),
      );
    }
    return written;
  }

  /** The first offset at or after `from` where `needle` starts, as `Buffer.indexOf` on the joined bytes; -1 if none. */
  indexOf(needle: Buffer, from = 0): number {
    if (needle.length === 0 || from + needle.length > this.length) return -1;
    const overlap = needle.length - 1;
    for (let i = this.chunkAt(from); i < this.chunks.length; i++) {
      const start = this.starts[i]!;
      const chunk = this.chunks[i]!;
      const found = chunk.indexOf(needle, Math.max(0, from - start));
      if (found >= 0) return start + found;
      // a match cut by the chunk's end: search the bytes either side of it
      const end = start + chunk.length;
      if (overlap === 0 || end >= this.length) continue;
      const seam = Math.max(from, end - overlap);
      const across = this.slice(seam, Math.min(this.length, end + overlap)).indexOf(needle);
      if (across >= 0) return seam + across;
    }
    return -1;
  }

  /** The index of the chunk holding byte `at`: a binary search over the chunk starts. */
  private chunkAt(at: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
