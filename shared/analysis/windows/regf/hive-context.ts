import type { CellMap } from "./cell-map.js";
import type { HiveLimits } from "./hive-limits.js";

/** What every key and value of one open hive shares: its cells, limits and the key bookkeeping. */
export interface HiveContext {
  cells: CellMap;
  limits: HiveLimits;
  /** nk offset → offset of the parent that listed it; a second parent means a cycle or shared key */
  claimedBy: Map<number, number>;
}
