import { cveSeverity, looksLikeCveRecord } from "./cve/cve-record.js";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { AdvisoryCollector } from "./db-build.js";
import { CvrfImportBatch } from "./msrc/cvrf-import.js";
import { readZipEntries, type ZipEntryLimits } from "./osv-export-feed.js";
import { collectRatingDocument, sniffRatingDocument } from "./rating-documents.js";

const RECORD_FILE = /\.(json|ya?ml)$/i;
// NVD's year files are `.json.gz`; the Debian tracker's download is named `json`
const RATING_FILE = /(\.json\.gz|^json)$/i;

/**
 * The records in one file: a single OSV record, an array of them, or an OSV API `{ "vulns": [...] }`
 * answer; YAML (PyPA's advisory-database form) or JSON by extension.
 */
export function parseRecordDocument(name: string, data: Buffer): unknown[] {
  const text = data.toString("utf8");
  const doc: unknown = /\.ya?ml$/i.test(name) ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  if (Array.isArray(doc)) return doc;
  if (doc && typeof doc === "object" && "vulns" in doc && Array.isArray((doc as { vulns: unknown }).vulns)) {
    return (doc as { vulns: unknown[] }).vulns;
  }
  return [doc];
}

function addDocument(collector: AdvisoryCollector, name: string, data: Buffer, cvrf: CvrfImportBatch): void {
  let records: unknown[];
  try {
    records = parseRecordDocument(name, data);
  } catch (err) {
    collector.skip(`${name}: ${(err as Error).message.split("\n")[0]}`);
    return;
  }
  // MSRC CVRF documents are converted to OSV records together, once every file is read
  for (const record of records) {
    if (cvrf.take(collector, name, record)) continue;
    if (!looksLikeCveRecord(record)) collector.add(record);
    else {
      // a CVE JSON 5 record: its CNA's or CISA-ADP's rating, for findings no advisory rates
      const rating = cveSeverity(record);
      if (rating) collector.addCve(rating);
    }
  }
}

/** Feeds the records of one zip (an OSV export or any archive of records) into the collector. */
export async function collectZip(
  collector: AdvisoryCollector,
  file: string,
  limits: ZipEntryLimits = {},
): Promise<void> {
  const cvrf = new CvrfImportBatch();
  await readZipEntries(file, limits, (name, data) => {
    if (!RECORD_FILE.test(name)) return;
    if (!Buffer.isBuffer(data))
      return collector.skip(`${name}: ${data.tooLarge} bytes, over the entry bound`);
    addDocument(collector, name, data, cvrf);
  });
  cvrf.flush(collector);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() && (RECORD_FILE.test(entry.name) || RATING_FILE.test(entry.name))) yield full;
  }
}

/** `db import` input: a directory tree of record files, a zip of them, or one file. */
export async function collectLocalRecords(
  collector: AdvisoryCollector,
  target: string,
  limits: ZipEntryLimits = {},
): Promise<void> {
  const maxEntryBytes = limits.maxEntryBytes ?? 16 * 1024 ** 2;
  const info = await stat(target);
  const files: string[] = [];
  if (info.isDirectory()) for await (const f of walk(target)) files.push(f);
  else if (/\.zip$/i.test(target)) return collectZip(collector, target, limits);
  else files.push(target);
  const cvrf = new CvrfImportBatch();
  for (const file of files.sort()) {
    // NVD year files and the Debian tracker's JSON are streamed, whatever their size
    const kind = await sniffRatingDocument(file);
    if (kind) {
      await collectRatingDocument(collector, file, kind);
      continue;
    }
    const size = (await stat(file)).size;
    if (info.isDirectory() && !RECORD_FILE.test(file))
      collector.skip(`${file}: neither an OSV record nor a rating feed`);
    else if (size > maxEntryBytes) collector.skip(`${file}: ${size} bytes, over the entry bound`);
    else addDocument(collector, file, await readFile(file), cvrf);
  }
  cvrf.flush(collector);
}
