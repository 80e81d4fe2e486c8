import { decodeRecordName } from "./key-node.js";
import type { CellMap } from "./cell-map.js";
import { RegfError } from "./regf-error.js";

const VALUE_COMP_NAME = 0x0001;
const VK_FIXED_SIZE = 20;
const DATA_INLINE = 0x80000000;

/** A `vk` record: one value's name, type and where its data lives. */
export interface ValueNode {
  hiveOffset: number;
  /** "" for the key's default value */
  name: string;
  type: number;
  /** declared data length, without the inline flag */
  size: number;
  /** data lives in the offset field itself (≤ 4 bytes) */
  inline: boolean;
  dataOffset: number;
  /** the raw 4-byte offset field, which holds the data when `inline` */
  offsetField: Buffer;
}

export function readValueNode(cells: CellMap, hiveOffset: number): ValueNode {
  const cell = cells.payload(hiveOffset, "value");
  const at = cells.fileOffset(hiveOffset);
  if (cell.length < VK_FIXED_SIZE || cell.toString("latin1", 0, 2) !== "vk") {
    throw new RegfError("bad-record", at, "expected a vk (value) record");
  }
  const nameLength = cell.readUInt16LE(2);
  if (VK_FIXED_SIZE + nameLength > cell.length) {
    throw new RegfError("bad-record", at + 2, `value name length ${nameLength} runs past its cell`);
  }
  const rawSize = cell.readUInt32LE(4);
  const flags = cell.readUInt16LE(16);
  return {
    hiveOffset,
    name: decodeRecordName(
      cell.subarray(VK_FIXED_SIZE, VK_FIXED_SIZE + nameLength),
      (flags & VALUE_COMP_NAME) !== 0,
    ),
    type: cell.readUInt32LE(12),
    size: (rawSize & ~DATA_INLINE) >>> 0,
    inline: (rawSize & DATA_INLINE) !== 0,
    dataOffset: cell.readUInt32LE(8),
    offsetField: Buffer.from(cell.subarray(8, 12)),
  };
}

/** The value offsets in a key's value list (a bare array of cell offsets). */
export function readValueList(cells: CellMap, listOffset: number, count: number): number[] {
  if (count === 0) return [];
  const cell = cells.payload(listOffset, "value list");
  if (count * 4 > cell.length) {
    throw new RegfError(
      "bad-record",
      cells.fileOffset(listOffset),
      `value count ${count} overruns the value list`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(cell.readUInt32LE(i * 4));
  return out;
}
