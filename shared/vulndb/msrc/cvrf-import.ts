import type { AdvisoryCollector } from "../db-build.js";
import { type CvrfDocument, CvrfDocumentSchema } from "./cvrf-schema.js";
import { cvrfToOsv } from "./cvrf-to-osv.js";

/** A CVRF document has DocumentTracking and a ProductTree; an OSV record has neither. */
function looksLikeCvrf(doc: unknown): boolean {
  return typeof doc === "object" && doc !== null && "DocumentTracking" in doc && "ProductTree" in doc;
}

/**
 * MSRC CVRF documents met during `db import` (an air-gapped copy of /cvrf/v3.0/cvrf/<month>),
 * held back and converted together, so a CVE republished in a later month merges the way the feed does.
 */
export class CvrfImportBatch {
  private readonly documents: CvrfDocument[] = [];

  /** true when `doc` is a CVRF document (taken, or skipped as malformed); false for anything else */
  take(collector: AdvisoryCollector, name: string, doc: unknown): boolean {
    if (!looksLikeCvrf(doc)) return false;
    const parsed = CvrfDocumentSchema.safeParse(doc);
    if (parsed.success) this.documents.push(parsed.data);
    else collector.skip(`${name}: not a CVRF document (${parsed.error.issues[0]?.message ?? "invalid"})`);
    return true;
  }

  /** Adds the OSV records of every document taken to the collector. */
  flush(collector: AdvisoryCollector): void {
    if (this.documents.length === 0) return;
    const { records, stats } = cvrfToOsv(this.documents);
    for (const reason of stats.invalid) collector.skip(`MSRC: ${reason}`);
    for (const record of records) collector.add(record);
    this.documents.length = 0;
  }
}
