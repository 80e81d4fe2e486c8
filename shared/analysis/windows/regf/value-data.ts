import type { CellMap } from "./cell-map.js";
import { RegfError } from "./regf-error.js";
import type { ValueNode } from "./value-node.js";

/** Largest data stored in one cell in hives ≥ 1.4; bigger data is split into `db` segments. */
const BIG_DATA_SEGMENT = 16344;

/** A value's raw data bytes: inline, one cell, or `db` big-data segments; bounded by `maxBytes`. */
export function readValueData(cells: CellMap, vk: ValueNode, maxBytes: number): Buffer {
  const at = cells.fileOffset(vk.hiveOffset);
  if (vk.size > maxBytes) {
    throw new RegfError(
      "value-too-large",
      at,
      `value "${vk.name}" declares ${vk.size} bytes (limit ${maxBytes})`,
    );
  }
  if (vk.inline) {
    if (vk.size > 4)
      throw new RegfError("bad-value-data", at, `inline value declares ${vk.size} bytes (max 4)`);
    return Buffer.from(vk.offsetField.subarray(0, vk.size));
  }
  if (vk.size === 0) return Buffer.alloc(0);
  const cell = cells.payload(vk.dataOffset, "value data");
  if (cell.length >= vk.size) return Buffer.from(cell.subarray(0, vk.size));
  if (cell.length >= 8 && cell.toString("latin1", 0, 2) === "db") return readBigData(cells, vk, cell);
  throw new RegfError(
    "bad-value-data",
    cells.fileOffset(vk.dataOffset),
    `value "${vk.name}" declares ${vk.size} bytes but its data cell holds ${cell.length}`,
  );
}

function readBigData(cells: CellMap, vk: ValueNode, db: Buffer): Buffer {
  const at = cells.fileOffset(vk.dataOffset);
  const segmentCount = db.readUInt16LE(2);
  const list = cells.payload(db.readUInt32LE(4), "big data segment list");
  if (segmentCount * 4 > list.length)
    throw new RegfError("bad-value-data", at, "db segment count overruns its list");
  if (segmentCount * BIG_DATA_SEGMENT < vk.size) {
    throw new RegfError("bad-value-data", at, `${segmentCount} db segments cannot hold ${vk.size} bytes`);
  }
  const out = Buffer.alloc(vk.size);
  let filled = 0;
  for (let i = 0; i < segmentCount && filled < vk.size; i++) {
    const segment = cells.payload(list.readUInt32LE(i * 4), "big data segment");
    const take = Math.min(BIG_DATA_SEGMENT, vk.size - filled);
    if (segment.length < take) throw new RegfError("bad-value-data", at, `db segment ${i} is short`);
    segment.copy(out, filled, 0, take);
    filled += take;
  }
  return out;
}
