import type { CellMap } from "./cell-map.js";
import { RegfError } from "./regf-error.js";

const KEY_COMP_NAME = 0x0020;
const NK_FIXED_SIZE = 76;

/** An `nk` record: one registry key, as stored. */
export interface KeyNode {
  hiveOffset: number;
  flags: number;
  /** FILETIME of the last write */
  lastWritten: bigint;
  parentOffset: number;
  subkeyCount: number;
  subkeyListOffset: number;
  valueCount: number;
  valueListOffset: number;
  classNameOffset: number;
  classNameLength: number;
  name: string;
}

/** Latin-1 ("compressed") or UTF-16LE, as the record's flag says; embedded NULs are kept. */
export function decodeRecordName(raw: Buffer, compressed: boolean): string {
  return compressed ? raw.toString("latin1") : raw.subarray(0, raw.length & ~1).toString("utf16le");
}

export function readKeyNode(cells: CellMap, hiveOffset: number): KeyNode {
  const cell = cells.payload(hiveOffset, "key");
  const at = cells.fileOffset(hiveOffset);
  if (cell.length < NK_FIXED_SIZE || cell.toString("latin1", 0, 2) !== "nk") {
    throw new RegfError("bad-record", at, "expected an nk (key) record");
  }
  const flags = cell.readUInt16LE(2);
  const nameLength = cell.readUInt16LE(72);
  if (NK_FIXED_SIZE + nameLength > cell.length) {
    throw new RegfError("bad-record", at + 72, `key name length ${nameLength} runs past its cell`);
  }
  return {
    hiveOffset,
    flags,
    lastWritten: cell.readBigUInt64LE(4),
    parentOffset: cell.readUInt32LE(16),
    subkeyCount: cell.readUInt32LE(20),
    subkeyListOffset: cell.readUInt32LE(28),
    valueCount: cell.readUInt32LE(36),
    valueListOffset: cell.readUInt32LE(40),
    classNameOffset: cell.readUInt32LE(48),
    classNameLength: cell.readUInt16LE(74),
    name: decodeRecordName(
      cell.subarray(NK_FIXED_SIZE, NK_FIXED_SIZE + nameLength),
      (flags & KEY_COMP_NAME) !== 0,
    ),
  };
}
