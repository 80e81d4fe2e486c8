import { parseBaseBlock } from "./base-block.js";
import { CellMap } from "./cell-map.js";
import { Hive } from "./hive.js";
import { DEFAULT_HIVE_LIMITS, type HiveLimits } from "./hive-limits.js";

/**
 * Parse a regf hive held in memory. Throws RegfError (with a code and the file offset) for a file
 * that is not regf, is truncated, or whose hive bins are malformed; keys and values are read lazily
 * and each read is bounds-checked, so later corruption surfaces as a RegfError at that key.
 */
export function openHive(buf: Buffer, limits: Partial<HiveLimits> = {}): Hive {
  const header = parseBaseBlock(buf);
  const cells = new CellMap(buf, header);
  return new Hive(header, {
    cells,
    limits: { ...DEFAULT_HIVE_LIMITS, ...limits },
    claimedBy: new Map(),
  });
}
