import { ChunkedBytes } from "../chunked-bytes.js";
import { TEXT_SNIFF_BYTES } from "./secret-rules.js";

/** Files joined up to this size share one kept buffer; larger ones (rare: scripts, databases) get their own. */
const KEPT_JOIN_BYTES = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The content engine's buffer for joining a file's chunks, reused from file to file. */
export class JoinBuffer {
  private buffer = EMPTY;

  /** The chunks in one buffer: this one's start, valid until the next call, when it fits. */
  join(chunks: readonly Buffer[], length: number): Buffer {
    if (this.buffer.length < length && length <= KEPT_JOIN_BYTES)
      this.buffer = Buffer.allocUnsafeSlow(
        Math.min(KEPT_JOIN_BYTES, Math.max(length, 2 * this.buffer.length)),
      );
    const into = this.buffer.length >= length ? this.buffer : Buffer.allocUnsafe(length);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(into, at);
    return into.subarray(0, at);
  }
}

/**
 * One file as the content engine reads it: its size and first bytes at once (magic, text or binary),
 * the chunks the walk read it in for the digests and the ELF reader, and the whole file joined only
 * when a reader needs it so (YARA on scripts, secrets, PE, clamd, the package databases). Most of an
 * image's bytes are read by no rule, or are ELF files, which are never joined.
 */
export class FileBytes {
  readonly length: number;
  /** the first TEXT_SNIFF_BYTES (or all of a smaller file) */
  readonly head: Buffer;
  /** the file as the ELF reader and YARA's ELF passes take it */
  readonly view: Buffer | ChunkedBytes;
  /** for the digests: hashed chunk by chunk */
  readonly chunks: Buffer | readonly Buffer[];
  private joined: Buffer | undefined;

  constructor(
    content: Buffer | readonly Buffer[],
    private readonly into: JoinBuffer,
  ) {
    const one = Buffer.isBuffer(content) ? content : content.length <= 1 ? (content[0] ?? EMPTY) : undefined;
    if (one !== undefined) {
      this.length = one.length;
      this.head = one;
      this.view = one;
      this.chunks = one;
      this.joined = one;
      return;
    }
    const chunked = new ChunkedBytes(content as readonly Buffer[]);
    this.length = chunked.length;
    this.head = chunked.slice(0, Math.min(chunked.length, TEXT_SNIFF_BYTES));
    this.view = chunked;
    this.chunks = content;
  }

  /** The whole file in one buffer (joined once, on first use; reused for the next file). */
  whole(): Buffer {
    this.joined ??= this.into.join(this.chunks as readonly Buffer[], this.length);
    return this.joined;
  }
}
