import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { PackageURL } from "packageurl-js";
import { z } from "zod";
import type { PolicyMatch } from "./tier.js";
import { formatPath, PolicyError } from "./policy-error.js";
import { isDigest } from "../model/digest.js";
import { formatImageRef } from "../model/image-reference.js";

/** VEX documents are machine-written and can be long, but not unbounded. */
export const MAX_VEX_BYTES = 32 * 1024 * 1024;
export const MAX_VEX_STATEMENTS = 100_000;

export const VexStatusSchema = z.enum(["not_affected", "affected", "fixed", "under_investigation"]);
export const VexJustificationSchema = z.enum([
  "component_not_present",
  "vulnerable_code_not_present",
  "vulnerable_code_not_in_execute_path",
  "vulnerable_code_cannot_be_controlled_by_adversary",
  "inline_mitigations_already_exist",
]);

// OpenVEX 0.0.x wrote vulnerabilities and products as bare strings; read those too.
const VexVulnerabilitySchema = z.preprocess(
  (v) => (typeof v === "string" ? { name: v } : v),
  z
    .object({
      "@id": z.string().optional(),
      name: z.string().optional(),
      description: z.string().optional(),
      aliases: z.array(z.string()).optional(),
    })
    .refine((v) => v.name !== undefined || v["@id"] !== undefined, "a vulnerability needs a name or @id"),
);

const VexComponentObject = z.object({
  "@id": z.string().optional(),
  identifiers: z.object({ purl: z.string().optional() }).loose().optional(),
  hashes: z.record(z.string(), z.string()).optional(),
});
const fromBareId = (v: unknown) => (typeof v === "string" ? { "@id": v } : v);

const VexProductSchema = z.preprocess(
  fromBareId,
  VexComponentObject.extend({
    subcomponents: z.array(z.preprocess(fromBareId, VexComponentObject)).optional(),
  }),
);

export const VexStatementSchema = z
  .object({
    "@id": z.string().optional(),
    timestamp: z.string().optional(),
    last_updated: z.string().optional(),
    vulnerability: VexVulnerabilitySchema,
    products: z.array(VexProductSchema).default([]),
    status: VexStatusSchema,
    status_notes: z.string().optional(),
    justification: VexJustificationSchema.optional(),
    impact_statement: z.string().optional(),
    action_statement: z.string().optional(),
  })
  .refine(
    (s) => s.status !== "not_affected" || s.justification !== undefined || s.impact_statement !== undefined,
    {
      message: "a not_affected statement needs a justification or an impact_statement (OpenVEX §4.2)",
      path: ["justification"],
    },
  );
export type VexStatement = z.infer<typeof VexStatementSchema>;

export const OpenVexDocumentSchema = z.object({
  "@context": z.string().regex(/^https:\/\/openvex\.dev\/ns(\/v[0-9.]+)?$/, "not an OpenVEX @context"),
  "@id": z.string().optional(),
  author: z.string().optional(),
  timestamp: z.string().optional(),
  version: z.union([z.number(), z.string()]).optional(),
  statements: z.array(VexStatementSchema).max(MAX_VEX_STATEMENTS),
});
export type OpenVexDocument = z.infer<typeof OpenVexDocumentSchema>;

/** Parses and validates one OpenVEX document (JSON). */
export function parseVex(text: string, source = "vex.json"): OpenVexDocument {
  if (Buffer.byteLength(text, "utf8") > MAX_VEX_BYTES) {
    throw new PolicyError("vex-invalid", source, [
      { path: "", message: `larger than the ${MAX_VEX_BYTES} byte limit for a VEX document` },
    ]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PolicyError("vex-invalid", source, [
      { path: "", message: `not JSON: ${(err as Error).message}` },
    ]);
  }
  const parsed = OpenVexDocumentSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new PolicyError(
    "vex-invalid",
    source,
    parsed.error.issues.slice(0, 20).map((i) => ({ path: formatPath(i.path), message: i.message })),
  );
}

/** Reads the policy's `vex` documents, paths relative to `baseDir` (the policy file's folder). */
export async function loadVexDocuments(
  paths: readonly string[],
  baseDir: string,
): Promise<OpenVexDocument[]> {
  const docs: OpenVexDocument[] = [];
  for (const p of paths) {
    const file = resolve(baseDir, p);
    const info = await stat(file);
    if (info.size > MAX_VEX_BYTES) {
      throw new PolicyError("vex-invalid", file, [
        {
          path: "",
          message: `${info.size} bytes, larger than the ${MAX_VEX_BYTES} byte limit for a VEX document`,
        },
      ]);
    }
    docs.push(parseVex(await readFile(file, "utf8"), file));
  }
  return docs;
}

/** The image a finding was seen in, as VEX products name it. */
export interface VexImage {
  repository: string;
  registry?: string;
  digest?: string;
}

interface IndexedStatement {
  statement: VexStatement;
  /** statement timestamp, else the document's; later statements supersede earlier ones */
  time: number;
  order: number;
}

/** The statements of several documents, indexed by every vulnerability name they mention. */
export class VexIndex {
  private readonly byVulnerability = new Map<string, IndexedStatement[]>();

  constructor(documents: readonly OpenVexDocument[]) {
    let order = 0;
    for (const doc of documents) {
      for (const statement of doc.statements) {
        const stamp = Date.parse(statement.last_updated ?? statement.timestamp ?? doc.timestamp ?? "");
        const entry = { statement, time: Number.isNaN(stamp) ? 0 : stamp, order: order++ };
        const v = statement.vulnerability;
        const names = new Set([v.name, v["@id"], ...(v.aliases ?? [])].filter((n) => n !== undefined));
        for (const name of names) {
          const key = name.toUpperCase();
          const list = this.byVulnerability.get(key);
          if (list === undefined) this.byVulnerability.set(key, [entry]);
          else list.push(entry);
        }
      }
    }
  }

  /** The statement that governs this finding in this image (the latest one that names it), if any. */
  statementFor(match: PolicyMatch, image: VexImage): VexStatement | undefined {
    let best: IndexedStatement | undefined;
    const seen = new Set<IndexedStatement>();
    for (const name of [match.id, ...match.aliases]) {
      for (const entry of this.byVulnerability.get(name.toUpperCase()) ?? []) {
        if (seen.has(entry)) continue;
        seen.add(entry);
        if (!entry.statement.products.some((p) => productCovers(p, match, image))) continue;
        if (
          best === undefined ||
          entry.time > best.time ||
          (entry.time === best.time && entry.order > best.order)
        ) {
          best = entry;
        }
      }
    }
    return best?.statement;
  }
}

/** `not_affected` and `fixed` suppress; `affected` and `under_investigation` leave the finding counted. */
export function vexSuppressionReason(statement: VexStatement): string | undefined {
  if (statement.status !== "not_affected" && statement.status !== "fixed") return undefined;
  const detail = [statement.justification, statement.impact_statement ?? statement.status_notes].filter(
    (s) => s !== undefined && s !== "",
  );
  return detail.length === 0 ? statement.status : `${statement.status}: ${detail.join(" — ")}`;
}

type VexProduct = VexStatement["products"][number];

/**
 * A product covers a finding when it is the finding's package itself, or when it is the image and
 * either lists no subcomponents (the whole image) or lists the package among them.
 */
function productCovers(product: VexProduct, match: PolicyMatch, image: VexImage): boolean {
  const ids = [product["@id"], product.identifiers?.purl].filter((s) => s !== undefined);
  if (ids.some((id) => purlMatches(id, match.package.purl))) return true;
  if (!ids.some((id) => identifiesImage(id, image))) return false;
  const subs = product.subcomponents ?? [];
  if (subs.length === 0) return true;
  return subs.some((s) =>
    [s["@id"], s.identifiers?.purl].some((id) => id !== undefined && purlMatches(id, match.package.purl)),
  );
}

/**
 * Same type, namespace and name; the statement's version, when it has one, must equal the
 * installed one. Qualifiers (arch, distro, repository_url) and subpath are ignored: VEX authors
 * rarely write them the way an SBOM does.
 */
function purlMatches(statementPurl: string, packagePurl: string): boolean {
  if (!statementPurl.startsWith("pkg:")) return false;
  const a = parsePurl(statementPurl);
  const b = parsePurl(packagePurl);
  if (a === undefined || b === undefined) return false;
  return (
    a.type === b.type &&
    (a.namespace ?? "") === (b.namespace ?? "") &&
    a.name === b.name &&
    (a.version === undefined || a.version === b.version)
  );
}

function parsePurl(purl: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
}

/** `pkg:oci/name@sha256:…`, `registry/repo@sha256:…`, a bare digest, or the repository itself. */
function identifiesImage(id: string, image: VexImage): boolean {
  const digest = image.digest?.toLowerCase();
  if (id.startsWith("pkg:oci/")) {
    const p = parsePurl(id);
    if (p === undefined) return false;
    if (p.version !== undefined) return digest !== undefined && p.version.toLowerCase() === digest;
    // without a digest the purl names a repository: repository_url says which, else the last path part
    const url = p.qualifiers?.repository_url?.replace(/^[a-z]+:\/\//, "").toLowerCase();
    if (url !== undefined)
      return [
        image.repository,
        formatImageRef({ registry: image.registry, repository: image.repository }),
      ].includes(url);
    return image.repository.split("/").pop() === p.name;
  }
  const at = id.lastIndexOf("@");
  if (at >= 0) return digest !== undefined && id.slice(at + 1).toLowerCase() === digest;
  if (isDigest(id.toLowerCase())) return digest !== undefined && id.toLowerCase() === digest;
  return false;
}
