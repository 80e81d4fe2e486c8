import { readFileSync } from "node:fs";

/** One key of a `<hive>.hivex.json` expected file (python3-hivex dump). */
export interface HivexDumpKey {
  path: string[];
  name: string;
  timestamp_filetime: string;
  subkey_count: number;
  values: { name: string; type: number; type_name: string; len: number; data_hex: string }[];
}

/** FILETIMEs exceed 2^53, so they are lifted to strings before JSON.parse can round them. */
export function readHivexDump(file: string): { hive_last_modified_filetime: string; keys: HivexDumpKey[] } {
  const text = readFileSync(file, "utf8").replace(
    /"(timestamp_filetime|hive_last_modified_filetime)":\s*(\d+)/g,
    (_m, key: string, digits: string) => `"${key}": "${digits}"`,
  );
  return JSON.parse(text);
}
