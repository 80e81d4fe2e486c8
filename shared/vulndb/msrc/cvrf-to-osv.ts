import { type OsvAffected, type OsvRecord, parseOsvRecord } from "../osv.js";
import {
  type CvrfDocument,
  type CvrfVulnerability,
  CvrfVulnerabilitySchema,
  REMEDIATION_VENDOR_FIX,
  THREAT_SEVERITY,
} from "./cvrf-schema.js";
import { isOtherOsRuntime, type ProductTarget, productTargets } from "./msrc-product.js";
import { windowsBaseImage } from "./windows-base-image.js";

export interface CvrfConversionStats {
  vulnerabilities: number;
  records: number;
  /** product entries left out, by reason ("not-a-tracked-product", "no-fixed-build", …) */
  skipped: Record<string, number>;
  /** vulnerabilities or records that failed validation, with the reason */
  invalid: string[];
}

type Remediation = NonNullable<CvrfVulnerability["Remediations"]>[number];
interface Pending {
  cve: string;
  title?: string;
  modified: string;
  published?: string;
  documents: string[];
  vectors: Set<string>;
  /** "ecosystem\u0000name\u0000introduced" → affected entry; a later document replaces an earlier one */
  affected: Map<string, OsvAffected>;
  references: Set<string>;
}

/**
 * MSRC CVRF documents → OSV records (`MSRC-CVE-…`, aliased to the CVE). Each product with a vendor
 * fix becomes one affected entry: `introduced` → `fixed = FixedBuild`, with the KB, supersedence
 * and MSRC severity kept in database_specific. A CVE republished in a later month is merged, the
 * later document winning per product.
 */
export function cvrfToOsv(documents: readonly CvrfDocument[]): {
  records: OsvRecord[];
  stats: CvrfConversionStats;
} {
  const stats: CvrfConversionStats = { vulnerabilities: 0, records: 0, skipped: {}, invalid: [] };
  const pending = new Map<string, Pending>();
  const ordered = [...documents].sort((a, b) =>
    a.DocumentTracking.CurrentReleaseDate.localeCompare(b.DocumentTracking.CurrentReleaseDate),
  );
  for (const doc of ordered) {
    const products = new Map((doc.ProductTree.FullProductName ?? []).map((p) => [p.ProductID, p.Value]));
    for (const raw of doc.Vulnerability ?? []) {
      const parsed = CvrfVulnerabilitySchema.safeParse(raw);
      if (!parsed.success) {
        stats.invalid.push(
          `${doc.DocumentTracking.Identification.ID.Value}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
        );
        continue;
      }
      stats.vulnerabilities++;
      addVulnerability(pending, doc, products, parsed.data, stats);
    }
  }
  const records: OsvRecord[] = [];
  for (const p of pending.values()) {
    if (p.affected.size === 0) continue;
    const result = parseOsvRecord(toRecord(p));
    if (result.ok) records.push(result.record);
    else stats.invalid.push(result.reason);
  }
  stats.records = records.length;
  return { records, stats };
}

function addVulnerability(
  pending: Map<string, Pending>,
  doc: CvrfDocument,
  products: Map<string, string>,
  vuln: CvrfVulnerability,
  stats: CvrfConversionStats,
): void {
  const docId = doc.DocumentTracking.Identification.ID.Value;
  const entry: Pending = pending.get(vuln.CVE) ?? {
    cve: vuln.CVE,
    modified: doc.DocumentTracking.CurrentReleaseDate,
    published: doc.DocumentTracking.InitialReleaseDate ?? undefined,
    documents: [],
    vectors: new Set<string>(),
    affected: new Map(),
    references: new Set<string>(),
  };
  entry.title = vuln.Title?.Value ?? entry.title;
  entry.modified = doc.DocumentTracking.CurrentReleaseDate;
  entry.documents.push(docId);
  pending.set(vuln.CVE, entry);

  const fixesByProduct = new Map<string, Remediation[]>();
  for (const r of vuln.Remediations ?? []) {
    if (r.Type !== REMEDIATION_VENDOR_FIX) continue;
    for (const id of r.ProductID ?? []) fixesByProduct.set(id, [...(fixesByProduct.get(id) ?? []), r]);
  }
  const severityOf = (id: string) =>
    vuln.Threats?.find((t) => t.Type === THREAT_SEVERITY && t.ProductID?.includes(id))?.Description?.Value ??
    undefined;
  const cvssOf = (id: string) => vuln.CVSSScoreSets?.find((s) => s.ProductID?.includes(id));

  for (const [productId, fixes] of fixesByProduct) {
    const product = products.get(productId);
    const targets = product === undefined ? [] : productTargets(product);
    if (targets.length === 0) {
      count(
        stats,
        product === undefined
          ? "unknown-product-id"
          : isOtherOsRuntime(product)
            ? "runtime-on-another-os"
            : "not-a-tracked-product",
      );
      continue;
    }
    // a hotpatch is a separate servicing channel; the regular cumulative update is what images get
    const fix = fixes.find((f) => !/hotpatch/i.test(f.SubType ?? "")) ?? fixes[0]!;
    const cvss = cvssOf(productId);
    if (cvss?.Vector?.startsWith("CVSS:3")) entry.vectors.add(cvss.Vector);
    if (fix.URL) entry.references.add(fix.URL);
    for (const target of targets) {
      const affected = affectedEntry(target, fix, {
        productId,
        product: product!,
        docId,
        released: releaseDay(doc),
        severity: severityOf(productId),
        cvss,
      });
      if (affected === undefined) count(stats, "no-fixed-build");
      // .NET 7.0 and 8.0 fix the same runtime pack on two lines: one entry per line
      else entry.affected.set(`${target.ecosystem}\u0000${target.name}\u0000${target.introduced}`, affected);
    }
  }
}

function affectedEntry(
  target: ProductTarget,
  fix: Remediation,
  ctx: {
    productId: string;
    product: string;
    docId: string;
    released: string | undefined;
    severity: string | undefined;
    cvss: NonNullable<CvrfVulnerability["CVSSScoreSets"]>[number] | undefined;
  },
): OsvAffected | undefined {
  const fixed = fix.FixedBuild ? target.fixed(fix.FixedBuild) : undefined;
  if (fixed === undefined) return undefined;
  const kbNumber = fix.Description?.Value?.trim();
  const kb = kbNumber && /^\d+$/.test(kbNumber) ? `KB${kbNumber}` : undefined;
  const supersedes = (fix.Supercedence ?? "")
    .split(/[,;\s]+/)
    .filter((s) => /^\d+$/.test(s))
    .map((s) => `KB${s}`);
  const baseImage = target.ecosystem === "Windows" ? windowsBaseImage(target.name) : undefined;
  return {
    package: { ecosystem: target.ecosystem, name: target.name },
    ranges: [{ type: "ECOSYSTEM", events: [{ introduced: target.introduced }, { fixed }] }],
    ecosystem_specific: {
      remediation: remediationHint(target, fixed, kb, ctx.released),
      ...(baseImage ? { base_image: baseImage } : {}),
    },
    database_specific: {
      source: "MSRC",
      document: ctx.docId,
      msrc_product: ctx.product,
      msrc_product_id: ctx.productId,
      ...(kb ? { kb } : {}),
      ...(ctx.released ? { released: ctx.released } : {}),
      ...(supersedes.length > 0 ? { supersedes } : {}),
      ...(fix.SubType ? { fix_type: fix.SubType } : {}),
      ...(fix.URL ? { url: fix.URL } : {}),
      ...(ctx.severity ? { severity: ctx.severity } : {}),
      ...(ctx.cvss?.BaseScore != null ? { cvss_base_score: ctx.cvss.BaseScore } : {}),
      ...(ctx.cvss?.Vector ? { cvss_vector: ctx.cvss.Vector } : {}),
    },
  };
}

function remediationHint(
  target: ProductTarget,
  fixed: string,
  kb: string | undefined,
  released: string | undefined,
): string {
  if (target.ecosystem === "Windows" && target.introduced === "0") {
    const image = windowsBaseImage(target.name);
    const example = image ? `e.g. ${image}${released ? ` pulled after ${released}` : ""}` : undefined;
    const details = [kb, example].filter((d) => d !== undefined).join(", ");
    return `rebuild on a base image with OS build ≥ ${fixed}${details ? ` (${details})` : ""}`;
  }
  return `update ${target.name} to ≥ ${fixed}${kb ? ` (${kb})` : ""}`;
}

function toRecord(p: Pending): unknown {
  return {
    schema_version: "1.6.0",
    id: `MSRC-${p.cve}`,
    aliases: [p.cve],
    modified: utc(p.modified),
    ...(p.published ? { published: utc(p.published) } : {}),
    ...(p.title ? { summary: p.title } : {}),
    severity: [...p.vectors].slice(0, 1).map((score) => ({ type: "CVSS_V3", score })),
    affected: [...p.affected.values()],
    references: [
      { type: "ADVISORY", url: `https://msrc.microsoft.com/update-guide/vulnerability/${p.cve}` },
      ...[...p.references].map((url) => ({ type: "WEB", url })),
    ],
    database_specific: { source: "MSRC CVRF", documents: p.documents },
  };
}

/** The day the month's updates came out (Patch Tuesday): a base image pulled after it has them. */
function releaseDay(doc: CvrfDocument): string | undefined {
  const date = doc.DocumentTracking.InitialReleaseDate ?? doc.DocumentTracking.CurrentReleaseDate;
  const iso = utc(date);
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : undefined;
}

/** MSRC dates come with or without a zone ("2024-04-09T07:00:00"); they are UTC. */
function utc(date: string): string {
  const withZone = /[zZ]|[+-]\d\d:\d\d$/.test(date) ? date : `${date}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? date : new Date(ms).toISOString();
}

function count(stats: CvrfConversionStats, reason: string): void {
  stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
}
