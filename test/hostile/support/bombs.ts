// Decompression bombs built in memory at test time: a few hundred KiB that claim gigabytes.
import { gzipSync } from "node:zlib";

const RLE_BLOCK = 128 * 1024;

/** A zstd frame header without content size or checksum, declaring `windowLog` (10…41). */
function zstdFrameHeader(windowLog: number, mantissa = 0): Buffer {
  // magic, frame header descriptor 0 (window descriptor present, no dictionary, no size), window descriptor
  return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, ((windowLog - 10) << 3) | mantissa]);
}

/**
 * `bytes` of zeros as RLE blocks of 128 KiB: four bytes each, zstd's worst ratio (32,768 : 1),
 * so 4 GiB fit in 128 KiB.
 */
export function zstdRleBomb(bytes: number): Buffer {
  const blocks = Math.ceil(bytes / RLE_BLOCK);
  const out = Buffer.alloc(6 + blocks * 4);
  zstdFrameHeader(17).copy(out);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    // block header: last bit, type 1 (RLE), size; then the one byte to repeat
    out.writeUIntLE(last | (1 << 1) | (RLE_BLOCK << 3), 6 + i * 4, 3);
    out[6 + i * 4 + 3] = 0;
  }
  return out;
}

/** A frame that declares a window of almost 2 GiB, which a naive decoder allocates up front. */
export function zstdWindowBomb(): Buffer {
  const block = Buffer.alloc(4);
  block.writeUIntLE(1 | (1 << 1) | (RLE_BLOCK << 3), 0, 3);
  return Buffer.concat([zstdFrameHeader(30, 7), block]);
}

/** `bytes` of zeros as concatenated gzip members (gunzip reads them all), about 1,000 : 1. */
export function gzipBomb(bytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 });
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / (64 * 1024 ** 2)) }, () => member));
}
