import { createHash } from "node:crypto";
import type { ContentFinding } from "../model/content.js";
import type { Report } from "../model/report.js";

// the shapes sarif.ts's schema validates, written out here so the two files do not import each other
interface SarifRule {
  id: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: "error" | "warning" };
  properties: { "security-severity": string; tags: string[]; precision: string };
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: "error" | "warning";
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
    logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[];
  }[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}

/** The content engine's SARIF rules and results: one rule per content rule id, one result per file. */
export function contentSarif(
  reports: readonly Report[],
  firstRuleIndex: number,
): { rules: SarifRule[]; results: SarifResult[] } {
  const entries = reports.flatMap((report) => (report.content ?? []).map((finding) => ({ report, finding })));
  const ruleIds = [...new Set(entries.map((e) => e.finding.rule))].sort();
  const index = new Map(ruleIds.map((id, i) => [id, firstRuleIndex + i]));
  const rules = ruleIds.map((id) => contentRule(id, entries.find((e) => e.finding.rule === id)!.finding));
  const results = entries.map(({ report, finding }): SarifResult => {
    const image = report.image.registry
      ? `${report.image.registry}/${report.image.repository}`
      : report.image.repository;
    return {
      ruleId: finding.rule,
      ruleIndex: index.get(finding.rule)!,
      level: finding.tier === "block" ? "error" : "warning",
      message: {
        text: `${finding.summary} (${finding.category}, ${finding.confidence}, ${finding.tier ?? "report"} tier). ${finding.evidence.join("; ")}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: {
              uri: finding.path.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/"),
            },
            region: { startLine: 1 },
          },
          logicalLocations: [
            {
              name: finding.path,
              fullyQualifiedName: `${image}@${report.image.digest}${finding.path}`,
              kind: "resource",
            },
          ],
        },
      ],
      ...(finding.suppressed === undefined
        ? {}
        : {
            suppressions: [
              {
                kind: "external" as const,
                status: "accepted" as const,
                justification: `${finding.suppressed.kind}: ${finding.suppressed.reason}${finding.suppressed.expires === undefined ? "" : ` (until ${finding.suppressed.expires})`}`,
              },
            ],
          }),
      partialFingerprints: {
        "contentRulePathRepository/v1": createHash("sha256")
          .update(JSON.stringify([finding.rule, finding.path, report.image.repository]))
          .digest("hex"),
      },
      properties: {
        tier: finding.tier ?? "report",
        category: finding.category,
        confidence: finding.confidence,
        engines: finding.engines,
        layer: finding.layer,
        ...(finding.sha256 === undefined ? {} : { sha256: finding.sha256 }),
        imageDigest: report.image.digest,
      },
    };
  });
  return { rules, results };
}

function contentRule(id: string, example: ContentFinding): SarifRule {
  const blocks = example.category === "integrity" || example.category === "malware";
  return {
    id,
    shortDescription: { text: `${example.category}: ${id}` },
    fullDescription: { text: `portcullis content engine rule ${id} (${example.category}).` },
    help: { text: `Find the file in the layer named by the result, and remove or rebuild it. Rule: ${id}.` },
    defaultConfiguration: { level: blocks ? "error" : "warning" },
    properties: {
      "security-severity": blocks ? "9.0" : "7.0",
      tags: ["security", example.category],
      precision: example.confidence === "confirmed" ? "very-high" : "high",
    },
  };
}
