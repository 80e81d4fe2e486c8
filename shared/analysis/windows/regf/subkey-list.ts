import type { CellMap } from "./cell-map.js";
import { RegfError } from "./regf-error.js";

/**
 * Key offsets from a subkey list, in on-disk order: `lf`/`lh` (offset + hash pairs), `li` (bare
 * offsets) or `ri` (an index of those lists, one level deep). Bounded: `limit` caps the total, and
 * an `ri` naming the same sub-list twice is rejected, so a tiny file cannot expand into billions.
 */
export function readSubkeyList(cells: CellMap, listOffset: number, limit: number): number[] {
  const out: number[] = [];
  readList(cells, listOffset, out, limit, true);
  return out;
}

function readList(
  cells: CellMap,
  listOffset: number,
  out: number[],
  limit: number,
  allowIndex: boolean,
): void {
  const cell = cells.payload(listOffset, "subkey list");
  const at = cells.fileOffset(listOffset);
  if (cell.length < 4) throw new RegfError("bad-subkey-list", at, "subkey list cell too small");
  const sig = cell.toString("latin1", 0, 2);
  const count = cell.readUInt16LE(2);
  const stride = sig === "lf" || sig === "lh" ? 8 : sig === "li" || sig === "ri" ? 4 : 0;
  if (stride === 0) throw new RegfError("bad-subkey-list", at, `unknown subkey list signature "${sig}"`);
  if (4 + count * stride > cell.length) {
    throw new RegfError("bad-subkey-list", at, `${sig} count ${count} overruns its cell`);
  }
  if (sig === "ri") {
    if (!allowIndex) throw new RegfError("bad-subkey-list", at, "ri index nested inside an ri index");
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const sub = cell.readUInt32LE(4 + i * 4);
      if (seen.has(sub))
        throw new RegfError("bad-subkey-list", at, `ri names sub-list 0x${sub.toString(16)} twice`);
      seen.add(sub);
      readList(cells, sub, out, limit, false);
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    if (out.length >= limit) throw new RegfError("too-many-keys", at, `more than ${limit} subkeys`);
    out.push(cell.readUInt32LE(4 + i * stride));
  }
}
