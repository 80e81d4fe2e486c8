import cvss from "ae-cvss-calculator";
import type { Severity } from "../model/report.js";
import type { OsvAffected, OsvRecord, OsvSeverity } from "./osv.js";

// ae-cvss-calculator is CommonJS; its classes come off the default export.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvss;

export interface CvssScore {
  vector: string;
  score: number;
}

export interface AdvisorySeverity {
  severity: Severity;
  cvss?: CvssScore;
}

/** CVSS v3/v4 qualitative rating bands (FIRST spec); 0.0 "none" is reported as low. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

/** Base score of a CVSS v3.x or v4.0 vector, or undefined when the vector is incomplete or unknown. */
export function cvssBaseScore(vector: string): number | undefined {
  try {
    const calc = vector.startsWith("CVSS:4.0/")
      ? new Cvss4P0(vector)
      : vector.startsWith("CVSS:3.1/")
        ? new Cvss3P1(vector)
        : vector.startsWith("CVSS:3.0/")
          ? new Cvss3P0(vector)
          : undefined;
    const base = calc?.calculateScores().base;
    return typeof base === "number" && Number.isFinite(base) ? base : undefined;
  } catch {
    // the calculator throws on malformed vectors; a bad vector just means "no score"
    return undefined;
  }
}

const RATINGS: Record<string, Severity> = {
  critical: "critical",
  high: "high",
  important: "high",
  moderate: "medium",
  medium: "medium",
  low: "low",
  negligible: "low",
  unimportant: "low",
};

function rating(value: unknown): Severity | undefined {
  return typeof value === "string" ? RATINGS[value.trim().toLowerCase()] : undefined;
}

function bestCvss(entries: readonly OsvSeverity[]): CvssScore | undefined {
  // v4 first (what GitHub shows when both exist), then v3
  for (const type of ["CVSS_V4", "CVSS_V3"] as const) {
    for (const e of entries) {
      if (e.type !== type) continue;
      const score = cvssBaseScore(e.score);
      if (score !== undefined) return { vector: e.score, score };
    }
  }
  return undefined;
}

/**
 * Severity of one affected entry: a CVSS v4/v3 vector (affected-level before record-level),
 * else the ecosystem's own rating (GHSA `database_specific.severity`, Debian urgency, Ubuntu priority),
 * else unknown.
 */
export function advisorySeverity(record: OsvRecord, affected: OsvAffected): AdvisorySeverity {
  const cvssScore = bestCvss([...(affected.severity ?? []), ...(record.severity ?? [])]);
  if (cvssScore) return { severity: severityFromScore(cvssScore.score), cvss: cvssScore };
  const ubuntu = [...(affected.severity ?? []), ...(record.severity ?? [])].find((s) => s.type === "Ubuntu");
  const own =
    rating(affected.database_specific?.severity) ??
    rating(affected.ecosystem_specific?.severity) ??
    rating(affected.ecosystem_specific?.urgency) ??
    rating(affected.database_specific?.urgency) ??
    rating(ubuntu?.score) ??
    rating(record.database_specific?.severity);
  return { severity: own ?? "unknown" };
}
