import cvss from "ae-cvss-calculator";
import { z } from "zod";
import type { Severity } from "../../model/report.js";
import type { CveRating } from "../db-build.js";
import { type CvssScore, cvssBaseScore, severityFromScore } from "../severity.js";

// ae-cvss-calculator is CommonJS; its classes come off the default export.
const { Cvss2 } = cvss;

/**
 * The parts of one `vulnerabilities[]` item of NVD's CVE API 2.0 answer (and of the JSON 2.0 feed
 * files, which have the same shape) that rate it: `cve.metrics.cvssMetricV40/V31/V30/V2[]`, each
 * `{ source, type: "Primary" | "Secondary", cvssData: { vectorString, baseScore } }`.
 * Everything else is ignored; a metric that does not parse is skipped, not fatal.
 */
const MetricSchema = z.object({
  source: z.string().optional(),
  type: z.enum(["Primary", "Secondary"]),
  cvssData: z.object({ vectorString: z.string().max(512), baseScore: z.number().optional() }),
});
type Metric = z.infer<typeof MetricSchema>;

export const NvdItemSchema = z.object({
  cve: z.object({
    id: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
    vulnStatus: z.string().optional(),
    lastModified: z.string().optional(),
    metrics: z
      .object({
        cvssMetricV40: z.array(z.unknown()).optional(),
        cvssMetricV31: z.array(z.unknown()).optional(),
        cvssMetricV30: z.array(z.unknown()).optional(),
        cvssMetricV2: z.array(z.unknown()).optional(),
      })
      .optional(),
  }),
});

/** The JSONPath of the items in an NVD JSON 2.0 document (API answer or feed file). */
export const NVD_ITEMS_PATH = "$.vulnerabilities.*";

/** CVSS v2 bands (NVD): there is no "critical" in v2. */
function severityFromV2(score: number): Severity {
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

function v2Score(vector: string): number | undefined {
  try {
    const base = new Cvss2(vector).calculateScores().base;
    return typeof base === "number" && Number.isFinite(base) ? base : undefined;
  } catch {
    return undefined; // a malformed vector is no score
  }
}

function metrics(list: readonly unknown[] | undefined, type: Metric["type"]): Metric[] {
  return (list ?? [])
    .map((m) => MetricSchema.safeParse(m))
    .filter((r) => r.success)
    .map((r) => r.data!)
    .filter((m) => m.type === type);
}

/**
 * NVD's rating of one CVE: NVD's own (Primary) CVSS v4.0, v3.1, v3.0, then the CNA scores NVD
 * relays (Secondary) in the same order, then v2 (Primary, Secondary) by the v2 bands. The score is
 * computed from the vector; a published score that disagrees is not trusted. Undefined for a
 * rejected CVE, one nobody scored, or an item that is not NVD's shape.
 */
export function nvdSeverity(raw: unknown): CveRating | undefined {
  const parsed = NvdItemSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { id, vulnStatus, lastModified, metrics: m } = parsed.data.cve;
  if (vulnStatus?.toLowerCase() === "rejected") return undefined;
  const rated = (severity: Severity, score: CvssScore): CveRating => ({
    cveId: id,
    severity,
    source: "nvd",
    cvss: score,
    ...(lastModified ? { updated: lastModified } : {}),
  });
  for (const type of ["Primary", "Secondary"] as const) {
    for (const list of [m?.cvssMetricV40, m?.cvssMetricV31, m?.cvssMetricV30]) {
      for (const metric of metrics(list, type)) {
        const score = cvssBaseScore(metric.cvssData.vectorString);
        if (score !== undefined)
          return rated(severityFromScore(score), { vector: metric.cvssData.vectorString, score });
      }
    }
  }
  for (const type of ["Primary", "Secondary"] as const) {
    for (const metric of metrics(m?.cvssMetricV2, type)) {
      const score = v2Score(metric.cvssData.vectorString);
      if (score !== undefined)
        return rated(severityFromV2(score), { vector: metric.cvssData.vectorString, score });
    }
  }
  return undefined;
}
