import cvss from "ae-cvss-calculator";
import type { Severity, SeveritySource } from "../model/report.js";
import { ecosystemBase, type OsvAffected, type OsvRecord, type OsvSeverity } from "./osv.js";

// ae-cvss-calculator is CommonJS; its classes come off the default export.
const { Cvss3P0, Cvss3P1, Cvss4P0 } = cvss;

export interface CvssScore {
  vector: string;
  score: number;
}

export interface AdvisorySeverity {
  severity: Severity;
  /** where the severity came from (report.ts SeveritySourceSchema) */
  source: SeveritySource;
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

/** The CVSS an MSRC entry keeps per product beside Microsoft's rating. */
function productCvss(affected: OsvAffected): CvssScore | undefined {
  const vector = affected.database_specific?.cvss_vector;
  const score = affected.database_specific?.cvss_base_score;
  if (typeof vector !== "string") return undefined;
  const computed = cvssBaseScore(vector);
  const base = typeof score === "number" && Number.isFinite(score) ? score : computed;
  return base === undefined ? undefined : { vector, score: base };
}

/**
 * Severity of one affected entry and where it came from, in this order (docs/policy.md):
 * 1. the advisory's own rating — GitHub's (`database_specific.severity`), Microsoft's (per product);
 * 2. the distribution's rating — Ubuntu priority, Red Hat's classification, Debian urgency, a
 *    distribution record's severity (the Debian tracker's urgency is added at matching);
 * 3. a CVSS v4/v3 vector the advisory carries (affected-level before record-level);
 * else unknown, for the CVE record's own metrics to fill in at matching (cve-severity.ts).
 */
export function advisorySeverity(record: OsvRecord, affected: OsvAffected): AdvisorySeverity {
  const vectors = [...(affected.severity ?? []), ...(record.severity ?? [])];
  const cvss = productCvss(affected) ?? bestCvss(vectors);
  const withCvss = (severity: Severity, source: SeveritySource): AdvisorySeverity => ({
    severity,
    source,
    ...(cvss ? { cvss } : {}),
  });
  const own = rating(affected.database_specific?.severity) ?? rating(record.database_specific?.severity);
  if (own) return withCvss(own, isDistribution(affected) ? "distribution" : "advisory");
  const ubuntu = vectors.find((s) => s.type === "Ubuntu");
  const distro =
    rating(ubuntu?.score) ??
    redHatRating(record, affected) ??
    rating(affected.ecosystem_specific?.severity) ??
    rating(affected.ecosystem_specific?.urgency) ??
    rating(affected.database_specific?.urgency);
  if (distro) return withCvss(distro, "distribution");
  if (cvss) return { severity: severityFromScore(cvss.score), source: "advisory-cvss", cvss };
  // a base score without its vector (MSRC mapping feeds): the CVSS bands still rate it
  const bare = affected.database_specific?.cvss_base_score;
  if (typeof bare === "number" && Number.isFinite(bare))
    return { severity: severityFromScore(bare), source: "advisory-cvss" };
  return { severity: "unknown", source: "none" };
}

// Red Hat's converter keeps the advisory's rating only as a link to its classification page
const RED_HAT_CLASSIFICATION =
  /^https:\/\/access\.redhat\.com\/security\/updates\/classification\/#([a-z]+)$/i;

/**
 * Red Hat's own rating of a Red Hat record (Critical, Important, Moderate, Low): the CSAF
 * `aggregate_severity`, which the OSV records carry as the classification page's anchor.
 */
function redHatRating(record: OsvRecord, affected: OsvAffected): Severity | undefined {
  if (ecosystemBase(affected.package?.ecosystem ?? "") !== "Red Hat") return undefined;
  for (const ref of record.references ?? []) {
    const level = rating(RED_HAT_CLASSIFICATION.exec(ref.url)?.[1]);
    if (level) return level;
  }
  return undefined;
}

// OSV ecosystems whose records a distribution publishes about its own packages
const DISTRIBUTION_ECOSYSTEMS = new Set([
  "AlmaLinux",
  "Alpaquita",
  "Alpine",
  "Azure Linux",
  "BellSoft Hardened Containers",
  "Chainguard",
  "Debian",
  "Mageia",
  "MinimOS",
  "openEuler",
  "openSUSE",
  "Photon OS",
  "Red Hat",
  "Rocky Linux",
  "SUSE",
  "Ubuntu",
  "Wolfi",
]);

function isDistribution(affected: OsvAffected): boolean {
  const ecosystem = affected.package?.ecosystem ?? "";
  return DISTRIBUTION_ECOSYSTEMS.has(ecosystem.split(":")[0]!);
}
