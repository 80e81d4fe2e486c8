import { type Report, SEVERITY_ORDER, type Verdict } from "../model/report.js";
import { type FindingRowSet, findingRowSetOf } from "./findings.js";
import type { DbStamp } from "./pipeline-deps.js";
import { verdictFindings } from "./verdict-history.js";

/**
 * A decided report as the verdict stores it: its JSON for the report blob, and what the images row,
 * the findings rows and the verdict record take from it. The verdict thread makes it where the report
 * is an object, so the event loop neither parses a report nor serialises one (plain data: it crosses
 * to the host as a structured clone).
 */
export interface DecidedReport {
  reportJson: string;
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
  /** the findings as the verdict record keeps them (`verdictFindings`' JSON) */
  findingStates: string;
}

export function decidedReport(
  report: Report,
  db: DbStamp,
  reportJson = JSON.stringify(report),
): DecidedReport {
  const counts = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, 0])) as Record<string, number>;
  for (const f of report.findings) if (!f.suppressed) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return {
    reportJson,
    db,
    verdict: report.verdict ?? { decision: "pass", reasons: [] },
    os: report.image.os ? `${report.image.os.family} ${report.image.os.version}` : "",
    counts,
    findings: report.findings.length,
    packages: report.packages.length,
    findingRows: findingRowSetOf(report.findings),
    findingStates: verdictFindings(report.findings).json,
  };
}
