import type { Hash } from "node:crypto";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { ScanError } from "../model/errors.js";
import { parseDigest } from "../model/digest.js";
import { createDigestHash } from "./digest.js";
import type { TransferStats } from "./transfer-stats.js";

export type ProgressCallback = (bytes: number, total: number | undefined) => void;

export interface BlobVerification {
  digest: string;
  /** expected size in bytes, when the descriptor gives one */
  size?: number;
  /** names the blob in errors: "layer sha256:… of ghcr.io/o/r" */
  what?: string;
  onProgress?: ProgressCallback;
  stats?: TransferStats;
}

/**
 * Passes bytes through while hashing them; fails at the end with `digest-mismatch` when the content
 * is not what the digest says, or as soon as more bytes arrive than the descriptor's size.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private readonly expected: BlobVerification;
  private bytes = 0;

  constructor(expected: BlobVerification) {
    super();
    this.hash = createDigestHash(expected.digest);
    this.expected = expected;
  }

  get bytesSeen(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const { size, onProgress, stats } = this.expected;
    if (stats) stats.blobBytes += chunk.length;
    if (size !== undefined && this.bytes > size) {
      callback(this.mismatch(`more than the ${size} bytes its descriptor declares`));
      return;
    }
    this.hash.update(chunk);
    onProgress?.(this.bytes, size);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { size, digest } = this.expected;
    if (size !== undefined && this.bytes !== size) {
      callback(this.mismatch(`${this.bytes} bytes, its descriptor declares ${size}`));
      return;
    }
    const { algorithm, hex } = parseDigest(digest);
    const actual = this.hash.digest("hex");
    if (actual !== hex) {
      callback(this.mismatch(`content hashes to ${algorithm}:${actual}`));
      return;
    }
    callback();
  }

  private mismatch(detail: string): ScanError {
    const what = this.expected.what ?? `blob ${this.expected.digest}`;
    return new ScanError("digest-mismatch", `${what}: ${detail}, not ${this.expected.digest}; discarded`);
  }
}

/**
 * Pipes `source` through a DigestVerifier. Errors of the source become transient `blob-read-failed`
 * ScanErrors (the layer is retried); closing the result early stops the source.
 */
export function verifyBlobStream(
  source: Readable,
  expected: BlobVerification,
  mapSourceError: (err: unknown) => Error = (err) => toBlobReadError(err, expected),
): Readable {
  const verifier = new DigestVerifier(expected);
  if (expected.stats) expected.stats.blobsOpened++;
  source.on("error", (err) => verifier.destroy(mapSourceError(err)));
  verifier.on("close", () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(verifier);
  return verifier;
}

function toBlobReadError(err: unknown, expected: BlobVerification): Error {
  if (err instanceof ScanError) return err;
  const what = expected.what ?? `blob ${expected.digest}`;
  const reason = err instanceof Error ? err.message : String(err);
  return new ScanError("blob-read-failed", `${what}: reading failed: ${reason}`, {
    permanent: false,
    cause: err,
  });
}
