import { Readable, type Transform } from "node:stream";
import zlib from "node:zlib";
import { ScanError } from "../model/errors.js";
import { FzstdStream } from "./fzstd-stream.js";
import { RecyclingGunzip } from "./recycling-gunzip.js";
import type { Compression } from "./layer-report.js";

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const UNSUPPORTED: { magic: number[]; name: string }[] = [
  { magic: [0x42, 0x5a, 0x68], name: "bzip2" },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: "xz" },
];

/** Bigger inflate chunks than zlib's 16 KiB default: fewer callbacks per MiB through the tar parser. */
const INFLATE_CHUNK = 128 * 1024;

const startsWith = (head: Buffer, magic: number[]) => magic.every((b, i) => head[i] === b);

/** Decides the compression from the first bytes: media types lie, magic numbers do not. */
export function detectCompression(head: Buffer): Compression {
  if (startsWith(head, GZIP)) return "gzip";
  if (startsWith(head, ZSTD)) return "zstd";
  const other = UNSUPPORTED.find((u) => startsWith(head, u.magic));
  if (other)
    throw new ScanError(
      "layer-unsupported-compression",
      `layer is ${other.name}-compressed, which is not supported`,
    );
  return "none";
}

/**
 * Reads the first bytes of a stream without losing them, so the caller can pick a decompressor
 * before piping: `rest` replays them (the same stream with the bytes pushed back, or a new one
 * when the source already ended).
 */
export function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; rest: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const finish = (ended: boolean, err?: Error) => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      if (err) return reject(err);
      const all = Buffer.concat(chunks, have);
      if (ended) return resolve({ head: all.subarray(0, bytes), rest: Readable.from(have > 0 ? [all] : []) });
      if (have > 0) stream.unshift(all);
      resolve({ head: all.subarray(0, bytes), rest: stream });
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => finish(false, err);
    const onReadable = () => {
      for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        chunks.push(buf);
        have += buf.length;
        if (have >= bytes) return finish(false);
      }
    };
    stream.on("readable", onReadable);
    stream.once("end", onEnd);
    stream.once("error", onError);
  });
}

type ZstdFactory = (options?: { chunkSize?: number }) => Transform;
// node:zlib gained zstd in Node 22.15; older runtimes fall back to fzstd
const nativeZstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

/** A decompressing stream for the detected format; `undefined` for an uncompressed tar. */
export function createDecompressor(compression: Compression): Transform | undefined {
  switch (compression) {
    case "gzip":
      return RecyclingGunzip.create(INFLATE_CHUNK) ?? zlib.createGunzip({ chunkSize: INFLATE_CHUNK });
    case "zstd":
      return nativeZstd
        ? nativeZstd({ chunkSize: INFLATE_CHUNK })
        : new FzstdStream({ chunkSize: INFLATE_CHUNK });
    case "none":
      return undefined;
  }
}
