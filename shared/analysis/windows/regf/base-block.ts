import { RegfError } from "./regf-error.js";

export const BASE_BLOCK_SIZE = 4096;

/** The regf file header (the "base block"). Cell offsets elsewhere are relative to its end. */
export interface BaseBlock {
  primarySequence: number;
  secondarySequence: number;
  /** FILETIME: 100-ns ticks since 1601-01-01 UTC */
  lastWritten: bigint;
  majorVersion: number;
  minorVersion: number;
  fileType: number;
  rootCellOffset: number;
  hiveBinsDataSize: number;
  storedChecksum: number;
  computedChecksum: number;
  /** a hive whose sequence numbers differ was not flushed cleanly (its log was not replayed) */
  dirty: boolean;
  checksumValid: boolean;
}

/** XOR of the first 127 dwords, with 0 and ~0 remapped as Windows does. */
export function baseBlockChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 508; i += 4) sum ^= header.readUInt32LE(i);
  sum >>>= 0;
  if (sum === 0xffffffff) return 0xfffffffe;
  if (sum === 0) return 1;
  return sum;
}

export function parseBaseBlock(buf: Buffer): BaseBlock {
  if (buf.length < 4 || buf.toString("latin1", 0, 4) !== "regf") {
    const magic = buf
      .subarray(0, 4)
      .toString("latin1")
      .replace(/[^\x20-\x7e]/g, ".");
    throw new RegfError("not-regf", 0, `signature is "${magic}", not "regf"`);
  }
  if (buf.length < BASE_BLOCK_SIZE) {
    throw new RegfError("truncated", buf.length, `file is ${buf.length} bytes, shorter than the base block`);
  }
  const majorVersion = buf.readUInt32LE(20);
  if (majorVersion !== 1) throw new RegfError("bad-header", 20, `unsupported major version ${majorVersion}`);
  const primarySequence = buf.readUInt32LE(4);
  const secondarySequence = buf.readUInt32LE(8);
  const storedChecksum = buf.readUInt32LE(508);
  const computedChecksum = baseBlockChecksum(buf);
  const hiveBinsDataSize = buf.readUInt32LE(40);
  if (hiveBinsDataSize % BASE_BLOCK_SIZE !== 0 || hiveBinsDataSize === 0) {
    throw new RegfError(
      "bad-header",
      40,
      `hive bins data size ${hiveBinsDataSize} is not a positive multiple of 4096`,
    );
  }
  if (BASE_BLOCK_SIZE + hiveBinsDataSize > buf.length) {
    throw new RegfError(
      "truncated",
      buf.length,
      `header declares ${hiveBinsDataSize} bytes of hive bins but the file holds ${buf.length - BASE_BLOCK_SIZE}`,
    );
  }
  return {
    primarySequence,
    secondarySequence,
    lastWritten: buf.readBigUInt64LE(12),
    majorVersion,
    minorVersion: buf.readUInt32LE(24),
    fileType: buf.readUInt32LE(28),
    rootCellOffset: buf.readUInt32LE(36),
    hiveBinsDataSize,
    storedChecksum,
    computedChecksum,
    dirty: primarySequence !== secondarySequence,
    checksumValid: storedChecksum === computedChecksum,
  };
}
