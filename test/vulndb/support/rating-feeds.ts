/**
 * Rating-feed documents in their published shapes, built at test time.
 * NVD: the CVE API 2.0 / JSON 2.0 feed schema (`cve_api_json_2.0.schema`): `vulnerabilities[].cve`
 * with `metrics.cvssMetricV40/V31/V30/V2[]` of `{ source, type: Primary|Secondary, cvssData }`.
 * Debian: the security tracker's `/tracker/data/json`: package → issue → `releases.<codename>`.
 */

export interface NvdMetricSpec {
  version: "4.0" | "3.1" | "3.0" | "2.0";
  type: "Primary" | "Secondary";
  vector: string;
  score: number;
  source?: string;
}

const metricKey = {
  "4.0": "cvssMetricV40",
  "3.1": "cvssMetricV31",
  "3.0": "cvssMetricV30",
  "2.0": "cvssMetricV2",
};

export function nvdItem(
  id: string,
  metrics: NvdMetricSpec[],
  options: { status?: string; lastModified?: string } = {},
) {
  const grouped: Record<string, unknown[]> = {};
  for (const m of metrics) {
    const cvssData =
      m.version === "2.0"
        ? { version: "2.0", vectorString: m.vector, baseScore: m.score }
        : { version: m.version, vectorString: m.vector, baseScore: m.score, baseSeverity: "HIGH" };
    const list = grouped[metricKey[m.version]] ?? [];
    grouped[metricKey[m.version]] = list;
    list.push({
      source: m.source ?? (m.type === "Primary" ? "nvd@nist.gov" : "cna@example.org"),
      type: m.type,
      cvssData,
      ...(m.version === "2.0" ? { baseSeverity: "HIGH", acInsufInfo: false } : {}),
      exploitabilityScore: 3.9,
      impactScore: 3.6,
    });
  }
  return {
    cve: {
      id,
      sourceIdentifier: "cna@example.org",
      published: "2024-03-01T10:15:07.000",
      lastModified: options.lastModified ?? "2024-06-01T10:15:07.000",
      vulnStatus: options.status ?? "Analyzed",
      descriptions: [{ lang: "en", value: "A flaw." }],
      metrics: grouped,
      references: [{ url: "https://example.org/advisory", source: "cna@example.org" }],
    },
  };
}

/** One NVD feed file (or API answer): the envelope around the items. */
export function nvdDocument(items: unknown[]) {
  return {
    resultsPerPage: items.length,
    startIndex: 0,
    totalResults: items.length,
    format: "NVD_CVE",
    version: "2.0",
    timestamp: "2025-07-01T08:00:00.000",
    vulnerabilities: items,
  };
}

export type TrackerReleases = Record<string, { status: string; urgency: string; fixed_version?: string }>;

/** The tracker's JSON: `{ package: { id: releases } }`. */
export function trackerDocument(issues: Record<string, Record<string, TrackerReleases>>) {
  return Object.fromEntries(
    Object.entries(issues).map(([pkg, byId]) => [
      pkg,
      Object.fromEntries(
        Object.entries(byId).map(([id, releases]) => [
          id,
          { description: "A flaw.", scope: "remote", releases, debianbug: 1000001 },
        ]),
      ),
    ]),
  );
}
