import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BlobStore } from "../../../shared/ports/blob-store.js";
import { importRecords } from "../../../shared/vulndb/db-update.js";

const MSRC_FIXTURES = fileURLToPath(new URL("../../fixtures/windows/msrc/", import.meta.url));

/** Seeds a DB with the fixture MSRC CVRF documents, imported as `db import` takes a directory of them. */
export async function writeMsrcTestDb(store: BlobStore): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-cvrf-"));
  try {
    for (const f of await readdir(MSRC_FIXTURES))
      if (/^cvrf-.*\.json$/.test(f)) await cp(path.join(MSRC_FIXTURES, f), path.join(dir, f));
    const { metadata, stats } = await importRecords(store, dir, {
      log: () => {},
      now: new Date("2025-09-01T00:00:00Z"),
    });
    if (stats.records === 0) throw new Error(`no MSRC records imported: ${stats.skippedReasons.join("; ")}`);
    return metadata.version;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
