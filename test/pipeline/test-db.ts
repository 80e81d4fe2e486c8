import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BlobStore } from "../../shared/ports/blob-store.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";

const OSV_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/osv");

/** Writes the vulnerability DB the pipeline suites match against: the fixture OSV records only. */
export async function writeTestDb(store: BlobStore): Promise<string> {
  const records = [];
  for (const file of (await readdir(OSV_DIR)).filter((f) => f.endsWith(".json")).sort())
    records.push(JSON.parse(await readFile(path.join(OSV_DIR, file), "utf8")) as unknown);
  const { metadata, stats } = await buildDbFromRecords(store, records, {
    now: new Date("2024-06-02T00:00:00Z"),
  });
  if (stats.skipped > 0) throw new Error(`test DB skipped records: ${stats.skippedReasons.join("; ")}`);
  return metadata.version;
}
