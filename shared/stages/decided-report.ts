import { type Report, SEVERITY_ORDER, type Verdict } from "../model/report.js";
import { type FindingRowSet, findingRowSetOf } from "./findings.js";
import type { DbStamp } from "./db-stamp.js";
import { verdictFindings } from "./verdict-history.js";

/**
 * A decided report as the verdict stores it: its JSON for the report blob, and what the images row,
 * the findings rows and the verdict record take from it. The verdict thread makes it where the report
 * is an object, so the event loop neither parses a report nor serialises one. Plain data; its two
 * large parts are UTF-8 bytes, which move to the host's thread instead of being copied
 * (`decidedTransfer`): a cloned 100 KB string cost both threads more than the rest of the answer.
 */
export interface DecidedReport {
  /** the report's JSON, UTF-8 */
  report: Uint8Array;
  /** the DB the report was matched against */
  db: DbStamp;
  verdict: Verdict;
  /** "family version", or "" when the OS is unknown */
  os: string;
  /** the findings counted (not suppressed) by severity */
  counts: Record<string, number>;
  findings: number;
  packages: number;
  findingRows: FindingRowSet;
  /** the findings as the verdict record keeps them (`verdictFindings`' bytes) */
  findingStates: Uint8Array;
}

export function decidedReport(report: Report, db: DbStamp): DecidedReport {
  const counts = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, 0])) as Record<string, number>;
  for (const f of report.findings) if (!f.suppressed) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return {
    report: new TextEncoder().encode(JSON.stringify(report)),
    db,
    verdict: report.verdict ?? { decision: "pass", reasons: [] },
    os: report.image.os ? `${report.image.os.family} ${report.image.os.version}` : "",
    counts,
    findings: report.findings.length,
    packages: report.packages.length,
    findingRows: findingRowSetOf(report.findings),
    findingStates: verdictFindings(report.findings).bytes,
  };
}

/** The buffers a `DecidedReport` posted to another thread hands over (each its own, never a pool's). */
export const decidedTransfer = (decided: DecidedReport): ArrayBuffer[] => [
  decided.report.buffer as ArrayBuffer,
  decided.findingStates.buffer as ArrayBuffer,
];

/** Bytes as a Buffer over the same memory (a blob put binds a Buffer as it is). */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
