import { createHash } from "node:crypto";
import { z } from "zod";
import {
  type Finding,
  type Misconfiguration,
  type Report,
  SEVERITY_ORDER,
  type Severity,
} from "../model/report.js";
import { compareFindings, compareMisconfigurations } from "./finding-order.js";
import { formatImageRef } from "../model/image-reference.js";
import { dockerfileLine, evidenceText } from "./misconfiguration-table.js";
import { isUnscannable } from "../model/scan-gaps.js";
import { contentSarif } from "./content-sarif.js";

export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/** The partialFingerprints key; bump the suffix if the inputs to the hash ever change. */
export const FINGERPRINT_KEY = "vulnerabilityPackageRepository/v1";

const MessageSchema = z.object({ text: z.string(), markdown: z.string().optional() });
const LevelSchema = z.enum(["none", "note", "warning", "error"]);

/** The part of SARIF 2.1.0 portcullis writes, with the spec's required fields required. */
export const SarifLogSchema = z.object({
  $schema: z.string(),
  version: z.literal("2.1.0"),
  runs: z.array(
    z.object({
      tool: z.object({
        driver: z.object({
          name: z.string(),
          version: z.string().optional(),
          informationUri: z.string().optional(),
          rules: z.array(
            z.object({
              id: z.string(),
              shortDescription: MessageSchema,
              fullDescription: MessageSchema,
              help: MessageSchema,
              helpUri: z.string().optional(),
              defaultConfiguration: z.object({ level: LevelSchema }),
              properties: z.object({
                "security-severity": z.string().regex(/^\d+(\.\d)?$/),
                tags: z.array(z.string()),
                precision: z.string(),
              }),
            }),
          ),
        }),
      }),
      /** the scan's warnings (what could not be read or matched) as tool execution notifications */
      invocations: z
        .array(
          z.object({
            executionSuccessful: z.boolean(),
            toolExecutionNotifications: z.array(
              z.object({
                level: LevelSchema,
                message: MessageSchema,
                descriptor: z.object({ id: z.string() }),
                locations: z
                  .array(
                    z.object({
                      physicalLocation: z.object({ artifactLocation: z.object({ uri: z.string() }) }),
                    }),
                  )
                  .optional(),
              }),
            ),
          }),
        )
        .optional(),
      results: z.array(
        z.object({
          ruleId: z.string(),
          ruleIndex: z.number().int().nonnegative(),
          level: LevelSchema,
          message: MessageSchema,
          locations: z
            .array(
              z.object({
                physicalLocation: z.object({
                  artifactLocation: z.object({ uri: z.string() }),
                  region: z.object({ startLine: z.number().int().positive() }),
                }),
                logicalLocations: z.array(
                  z.object({ name: z.string(), fullyQualifiedName: z.string(), kind: z.string() }),
                ),
              }),
            )
            .min(1),
          partialFingerprints: z.record(z.string(), z.string()),
          suppressions: z
            .array(
              z.object({
                kind: z.literal("external"),
                status: z.literal("accepted"),
                justification: z.string(),
              }),
            )
            .optional(),
          properties: z.record(z.string(), z.unknown()).optional(),
        }),
      ),
    }),
  ),
});
export type SarifLog = z.infer<typeof SarifLogSchema>;
type SarifRun = SarifLog["runs"][number];
type SarifRule = SarifRun["tool"]["driver"]["rules"][number];
type SarifResult = SarifRun["results"][number];

export interface SarifOptions {
  /** portcullis's own version, for tool.driver.version */
  toolVersion?: string;
  /** the project's home page, for tool.driver.informationUri */
  informationUri?: string;
}

/**
 * SARIF 2.1.0 for code-scanning dashboards: one run, one rule per vulnerability id, one result per
 * vulnerability × package × image repository — the fingerprint — so an alert survives rebuilds,
 * upgrades that do not fix it, and reordering, and closes when the finding goes away.
 */
export function renderSarif(reports: readonly Report[], options: SarifOptions = {}): SarifLog {
  const entries = reports
    .flatMap((report) => report.findings.map((finding) => ({ report, finding })))
    .sort((a, b) => compareImages(a.report, b.report) || compareFindings(a.finding, b.finding));

  const rules = new Map<string, Finding[]>();
  for (const { finding } of entries) rules.set(finding.id, [...(rules.get(finding.id) ?? []), finding]);
  const ruleIds = [...rules.keys()].sort();
  const ruleIndex = new Map(ruleIds.map((id, i) => [id, i]));

  const results = new Map<string, SarifResult>();
  for (const { report, finding } of entries) {
    const fingerprint = sarifFingerprint(finding.id, finding.package.name, report.image.repository);
    const location = imageLocation(report, finding);
    const existing = results.get(fingerprint);
    if (existing !== undefined) {
      // the same vulnerable package on another platform (or path) of the image: one alert, more places
      const uri = location.physicalLocation.artifactLocation.uri;
      const fqn = location.logicalLocations[0]!.fullyQualifiedName;
      const same = existing.locations.some(
        (l) =>
          l.physicalLocation.artifactLocation.uri === uri &&
          l.logicalLocations[0]?.fullyQualifiedName === fqn,
      );
      if (!same) existing.locations.push(location);
      continue;
    }
    results.set(fingerprint, {
      ruleId: finding.id,
      ruleIndex: ruleIndex.get(finding.id)!,
      level: LEVEL[finding.severity],
      message: { text: resultMessage(report, finding) },
      locations: [location],
      partialFingerprints: { [FINGERPRINT_KEY]: fingerprint },
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
      properties: {
        tier: finding.tier,
        severity: finding.severity,
        ...(finding.severitySource === undefined ? {} : { severitySource: finding.severitySource }),
        packageVersion: finding.package.version,
        purl: finding.package.purl,
        ...(finding.fixedVersion === undefined ? {} : { fixedVersion: finding.fixedVersion }),
        imageDigest: report.image.digest,
      },
    });
  }
  const content = contentSarif(reports, ruleIds.length);

  const audit = misconfigurationSarif(reports, ruleIds.length);
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "portcullis",
            ...(options.toolVersion === undefined ? {} : { version: options.toolVersion }),
            ...(options.informationUri === undefined ? {} : { informationUri: options.informationUri }),
            rules: [...ruleIds.map((id) => rule(id, rules.get(id)!)), ...audit.rules, ...content.rules],
          },
        },
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications(reports) }],
        results: [...results.values(), ...audit.results, ...content.results],
      },
    ],
  };
}

/** Every report's warnings; one that left part of the image unscanned is a `warning`, the rest `note`s. */
function notifications(
  reports: readonly Report[],
): NonNullable<SarifRun["invocations"]>[number]["toolExecutionNotifications"] {
  return reports.flatMap((report) =>
    report.warnings.map((w) => ({
      level: isUnscannable(w) ? ("warning" as const) : ("note" as const),
      message: { text: `${imageName(report)}@${report.image.digest}: ${w.message}` },
      descriptor: { id: w.code },
      locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(imageName(report)) } } }],
    })),
  );
}

const artifactUri = (name: string): string => name.split("/").map(encodeURIComponent).join("/");

/** sha256 of vulnerability id, package name and image repository — never a line, a version or an order. */
export function sarifFingerprint(vulnerabilityId: string, packageName: string, repository: string): string {
  return createHash("sha256")
    .update(JSON.stringify([vulnerabilityId, packageName, repository]))
    .digest("hex");
}

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  unknown: "note",
};

/** GitHub's security-severity bands (CVSS-like): a score outside our severity's band is replaced by its midpoint. */
const SEVERITY_BAND: Record<Severity, [number, number, number]> = {
  critical: [9.0, 10.0, 9.5],
  high: [7.0, 8.9, 8.0],
  medium: [4.0, 6.9, 5.5],
  low: [0.1, 3.9, 2.0],
  unknown: [0.0, 0.0, 0.0],
};

function securitySeverity(severity: Severity, score: number | undefined): string {
  const [low, high, mid] = SEVERITY_BAND[severity];
  const value = score !== undefined && score >= low && score <= high ? score : mid;
  return value.toFixed(1);
}

function rule(id: string, findings: readonly Finding[]): SarifRule {
  const worst = [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1),
  )[0]!;
  const summary = findings.find((f) => f.summary !== undefined)?.summary;
  const aliases = [...new Set(findings.flatMap((f) => f.aliases))].sort();
  const packages = [...new Set(findings.map((f) => f.package.name))].sort();
  const fixed = [...new Set(findings.flatMap((f) => (f.fixedVersion === undefined ? [] : [f.fixedVersion])))];
  const helpUri = `https://osv.dev/vulnerability/${encodeURIComponent(id)}`;
  const lines: [string, string][] = [
    ["Vulnerability", id],
    ["Severity", worst.severity + (worst.cvss === undefined ? "" : ` (CVSS ${worst.cvss.score})`)],
    ["Packages", packages.join(", ")],
    ["Fixed in", fixed.length === 0 ? "no fix available yet" : fixed.join(", ")],
    ...(aliases.length === 0 ? [] : [["Aliases", aliases.join(", ")] as [string, string]]),
  ];
  return {
    id,
    shortDescription: {
      text: summary === undefined ? `${id} in ${packages.join(", ")}` : `${id}: ${summary}`,
    },
    fullDescription: { text: summary ?? `${id} affects ${packages.join(", ")}.` },
    help: {
      text: `${lines.map(([k, v]) => `${k}: ${v}`).join("\n")}\n${helpUri}`,
      markdown: `| | |\n|---|---|\n${lines.map(([k, v]) => `| ${k} | ${escapeMarkdown(v)} |`).join("\n")}\n\n[${id}](${helpUri})`,
    },
    helpUri,
    defaultConfiguration: { level: LEVEL[worst.severity] },
    properties: {
      "security-severity": securitySeverity(worst.severity, worst.cvss?.score),
      tags: ["security", "vulnerability", worst.severity],
      precision: "very-high",
    },
  };
}

function resultMessage(report: Report, f: Finding): string {
  const fix = f.fixedVersion === undefined ? "no fix is available yet" : `fixed in ${f.fixedVersion}`;
  const remedy = f.remediation === undefined ? "" : ` Remediation: ${f.remediation}.`;
  return `${f.package.name} ${f.package.version} (${f.package.ecosystem}) in ${imageName(report)} is affected by ${f.id} [${f.severity}, ${f.tier} tier]; ${fix}.${remedy}`;
}

/** The image as an artifact (its repository; a tag would split alerts) and the package as a logical place in it. */
function imageLocation(report: Report, f: Finding): SarifResult["locations"][number] {
  const name = imageName(report);
  return {
    physicalLocation: {
      // percent-encode each segment: a registry port (`localhost:5000`) would otherwise read as a URI scheme
      artifactLocation: { uri: artifactUri(name) },
      region: { startLine: 1 },
    },
    logicalLocations: [
      {
        name: f.package.name,
        fullyQualifiedName: `${name}@${report.image.digest}/${f.package.purl}`,
        kind: "module",
      },
    ],
  };
}

/** registry/repository; a local image (`oci:`, `oci-archive:`) has no registry and is named by its path alone. */
const imageName = (report: Report): string =>
  formatImageRef({ registry: report.image.registry, repository: report.image.repository });

const compareImages = (a: Report, b: Report): number => {
  const [x, y] = [`${imageName(a)}@${a.image.digest}`, `${imageName(b)}@${b.image.digest}`];
  return x < y ? -1 : x > y ? 1 : 0;
};

const escapeMarkdown = (s: string): string => s.replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);

/** The partialFingerprints key of a misconfiguration: check id + where + image repository. */
export const MISCONFIGURATION_FINGERPRINT_KEY = "checkLocationRepository/v1";

/**
 * The configuration audit in SARIF: one rule per check id (rationale and references as help), one
 * result per check × evidence location × image repository, located in the image with the file or
 * hive key as the logical location — never a secret, which the evidence never holds.
 */
export function misconfigurationSarif(
  reports: readonly Report[],
  firstRuleIndex: number,
): { rules: SarifRule[]; results: SarifResult[] } {
  const entries = reports.flatMap((report) =>
    [...(report.misconfigurations ?? [])].sort(compareMisconfigurations).map((m) => ({ report, m })),
  );
  const byId = new Map<string, Misconfiguration>();
  for (const { m } of entries) if (!byId.has(m.id)) byId.set(m.id, m);
  const ids = [...byId.keys()].sort();
  const index = new Map(ids.map((id, i) => [id, firstRuleIndex + i]));

  const results = new Map<string, SarifResult>();
  for (const { report, m } of entries) {
    const where = m.evidence.map((e) => [e.location, e.key ?? "", e.value ?? ""].join("\\")).join("|");
    const fingerprint = createHash("sha256")
      .update(JSON.stringify([m.id, where, report.image.repository]))
      .digest("hex");
    if (results.has(fingerprint)) continue;
    const name = imageName(report);
    results.set(fingerprint, {
      ruleId: m.id,
      ruleIndex: index.get(m.id)!,
      level: LEVEL[m.severity],
      message: {
        text: `${m.title} in ${name} [${m.severity}, ${m.tier} tier]: ${m.evidence.map(evidenceText).join("; ")}. Fix in the Dockerfile: ${dockerfileLine(m.remediation)}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: name.split("/").map(encodeURIComponent).join("/") },
            region: { startLine: 1 },
          },
          logicalLocations: [
            {
              name: m.evidence[0]!.location,
              fullyQualifiedName: `${name}@${report.image.digest}/${where}`,
              kind: "resource",
            },
          ],
        },
      ],
      partialFingerprints: { [MISCONFIGURATION_FINGERPRINT_KEY]: fingerprint },
      ...(m.suppressed === undefined
        ? {}
        : {
            suppressions: [
              {
                kind: "external" as const,
                status: "accepted" as const,
                justification: `accepted-risk: ${m.suppressed.reason}${m.suppressed.expires === undefined ? "" : ` (until ${m.suppressed.expires})`}`,
              },
            ],
          }),
      properties: {
        tier: m.tier,
        severity: m.severity,
        remediation: { shell: m.remediation.shell, script: m.remediation.script },
        imageDigest: report.image.digest,
      },
    });
  }
  return { rules: ids.map((id) => checkRule(byId.get(id)!)), results: [...results.values()] };
}

function checkRule(m: Misconfiguration): SarifRule {
  const refs = m.references.map((r) => `- ${r}`).join("\n");
  return {
    id: m.id,
    shortDescription: { text: m.title },
    fullDescription: { text: m.rationale },
    help: {
      text: `${m.rationale}\nReferences:\n${refs}\nFix (Dockerfile): ${dockerfileLine(m.remediation)}`,
      markdown: `${escapeMarkdown(m.rationale)}\n\n**References**\n\n${m.references.map((r) => `- ${escapeMarkdown(r)}`).join("\n")}\n\n**Fix** (Dockerfile)\n\n\`\`\`dockerfile\n${dockerfileLine(m.remediation)}\n\`\`\``,
    },
    defaultConfiguration: { level: LEVEL[m.severity] },
    properties: {
      "security-severity": securitySeverity(m.severity, undefined),
      tags: ["security", "misconfiguration", m.severity],
      precision: "high",
    },
  };
}
