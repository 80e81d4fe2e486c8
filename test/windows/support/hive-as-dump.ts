import type { Hive } from "../../../shared/analysis/windows/regf/index.js";
import type { HivexDumpKey } from "./hivex-dump.js";

/** Our reader's view of a hive in the shape of a hivex dump, for a whole-hive comparison. */
export function hiveAsDump(hive: Hive): HivexDumpKey[] {
  return [...hive.walk()].map((key) => ({
    path: [...key.path],
    name: key.name,
    timestamp_filetime: key.lastWritten.toString(),
    subkey_count: key.subkeys().length,
    values: key.values().map((v) => ({
      name: v.name,
      type: v.type,
      // hivex names every type it does not know "UNKNOWN"
      type_name: v.typeName.startsWith("REG_UNKNOWN") ? "UNKNOWN" : v.typeName,
      len: v.size,
      data_hex: v.data.toString("hex"),
    })),
  }));
}
