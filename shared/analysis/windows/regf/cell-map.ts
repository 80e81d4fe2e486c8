import { BASE_BLOCK_SIZE, type BaseBlock } from "./base-block.js";
import { RegfError } from "./regf-error.js";

const HBIN_HEADER_SIZE = 32;

/**
 * Every cell start found by walking the hive bins once, so a cell offset read from the file is
 * accepted only when it names a real cell (hivex's bitmap idea) — never the middle of one.
 */
export class CellMap {
  readonly #buf: Buffer;
  readonly #starts: Uint8Array;
  readonly #end: number;

  constructor(buf: Buffer, header: BaseBlock) {
    this.#buf = buf;
    this.#end = BASE_BLOCK_SIZE + header.hiveBinsDataSize;
    this.#starts = new Uint8Array((this.#end >>> 5) + 1);
    this.#walkBins();
  }

  #walkBins(): void {
    const buf = this.#buf;
    let bin = BASE_BLOCK_SIZE;
    while (bin < this.#end) {
      if (bin + HBIN_HEADER_SIZE > this.#end || buf.toString("latin1", bin, bin + 4) !== "hbin") {
        throw new RegfError("bad-hbin", bin, "expected an hbin header");
      }
      const size = buf.readUInt32LE(bin + 8);
      if (size < 4096 || size % 4096 !== 0 || bin + size > this.#end) {
        throw new RegfError(
          "bad-hbin",
          bin + 8,
          `hbin size ${size} is invalid or runs past the hive bins data`,
        );
      }
      let cell = bin + HBIN_HEADER_SIZE;
      const binEnd = bin + size;
      while (cell < binEnd) {
        if (cell + 4 > binEnd) throw new RegfError("bad-cell", cell, "cell header crosses the hbin end");
        const raw = buf.readInt32LE(cell);
        const len = Math.abs(raw);
        if (len < 8 || len % 4 !== 0 || cell + len > binEnd) {
          throw new RegfError(
            "bad-cell",
            cell,
            `cell size ${raw} is invalid in hbin at 0x${bin.toString(16)}`,
          );
        }
        // only allocated cells (negative size) may be referenced
        if (raw < 0) this.#mark(cell);
        cell += len;
      }
      bin = binEnd;
    }
  }

  #mark(fileOffset: number): void {
    const slot = fileOffset >>> 2;
    this.#starts[slot >>> 3]! |= 1 << (slot & 7);
  }

  #isStart(fileOffset: number): boolean {
    if (fileOffset % 4 !== 0 || fileOffset < BASE_BLOCK_SIZE || fileOffset >= this.#end) return false;
    const slot = fileOffset >>> 2;
    return ((this.#starts[slot >>> 3] ?? 0) & (1 << (slot & 7))) !== 0;
  }

  /** The payload (after the size field) of the allocated cell at a hive offset; `what` names it in errors. */
  payload(hiveOffset: number, what: string): Buffer {
    const at = BASE_BLOCK_SIZE + hiveOffset;
    if (hiveOffset === 0xffffffff || !this.#isStart(at)) {
      throw new RegfError(
        "bad-offset",
        at,
        `${what} offset 0x${hiveOffset.toString(16)} is not an allocated cell`,
      );
    }
    const len = -this.#buf.readInt32LE(at);
    return this.#buf.subarray(at + 4, at + len);
  }

  /** File offset of a cell payload, for error messages. */
  fileOffset(hiveOffset: number): number {
    return BASE_BLOCK_SIZE + hiveOffset + 4;
  }
}
