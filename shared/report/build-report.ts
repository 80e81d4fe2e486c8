import type { ContentFinding } from "../model/content.js";
import type { ScanWarning } from "../model/inventory.js";
import {
  type Finding,
  type Inventory,
  type Misconfiguration,
  type Report,
  ReportSchema,
  type Verdict,
} from "../model/report.js";
import { compareFindings, compareMisconfigurations } from "./finding-order.js";

export interface ReportDb {
  version: string;
  updatedAt: string;
}

/**
 * Assembles the JSON report contract (README, schemaVersion 1) for one platform image and
 * validates it: a report that does not fit its own schema is a bug, and fails here, not downstream.
 */
export function buildReport(...args: Parameters<typeof assembleReport>): Report {
  return ReportSchema.parse(assembleReport(...args));
}

/**
 * `buildReport` without the check, for the pipeline's verdicts: its inputs are typed by their schemas
 * (the inventory parsed where it was read, the findings made by the policy), and parsing the result
 * again cost a fleet rescan ≈ 0.8 ms per image. The CLI and the tests keep the check on the same code.
 */
export function assembleReport(
  inventory: Inventory,
  findings: readonly Finding[],
  verdict: Verdict | undefined,
  db: ReportDb | undefined,
  warnings: readonly ScanWarning[] = [],
  misconfigurations?: readonly Misconfiguration[],
  /** the content engine's findings, with their tier; undefined when the engine did not run */
  content?: readonly ContentFinding[],
): Report {
  const seen = new Set<string>();
  const allWarnings = [...inventory.warnings, ...warnings].filter((w) => {
    const key = JSON.stringify([w.code, w.message, w.layer, w.path]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return {
    schemaVersion: 1,
    image: inventory.image,
    ...(db === undefined ? {} : { db: { version: db.version, updatedAt: db.updatedAt } }),
    packages: inventory.packages,
    findings: [...findings].sort(compareFindings),
    ...(misconfigurations === undefined
      ? {}
      : { misconfigurations: [...misconfigurations].sort(compareMisconfigurations) }),
    ...(verdict === undefined ? {} : { verdict }),
    warnings: allWarnings,
    ...(content === undefined ? {} : { content: [...content] }),
  };
}
