import { ScanError } from "../model/errors.js";
import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { z } from "zod";
import { advisoryCoordinates } from "../matching/match.js";
import type { Finding, Report } from "../model/report.js";
import type { TableProperties, TableStore } from "../ports/table-store.js";
import { packageKey } from "../vulndb/db-format.js";
import { TABLES } from "./tables.js";

/** Rows written at once: a bounded number in flight instead of one round trip each. */
const WRITE_CONCURRENCY = 16;

/** One finding of an image's latest verdict, as the `findings` table keeps it. */
export const FindingRowSchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()),
  package: z.string(),
  version: z.string(),
  ecosystem: z.string(),
  fixedVersion: z.string(),
  severity: z.string(),
  tier: z.string(),
  /** "accepted-risk" or "vex" when the finding is not counted, else "" */
  suppressed: z.string(),
  layer: z.string(),
});
export type FindingRow = z.infer<typeof FindingRowSchema>;

/**
 * Characters of the set's JSON per row: Table Storage holds at most 32 K UTF-16 code units in one
 * string property (64 KiB), with room to spare.
 */
const PART_CHARS = 30_000;
const partKey = (n: number) => `part-${String(n).padStart(4, "0")}`;
const PartSchema = z.object({
  /** this part's slice of the set's JSON array */
  json: z.string(),
  part: z.number().int().nonnegative(),
  parts: z.number().int().positive(),
  /** names the set (a hash of its JSON): parts of two different sets never join */
  set: z.string(),
  count: z.number().int().nonnegative(),
});

/** An image's findings as the `findings` rows hold them: the set's JSON in slices, and the set's name. */
export interface FindingRowSet {
  slices: string[];
  /** a hash of the set's JSON: parts of two different sets never join */
  set: string;
  count: number;
}

/** The row set of a verdict's findings (the verdict thread makes it where the report is an object). */
export function findingRowSetOf(findings: readonly Finding[]): FindingRowSet {
  const rows: FindingRow[] = findings.map((f) => ({
    id: f.id,
    aliases: f.aliases,
    package: f.package.name,
    version: f.package.version,
    ecosystem: f.package.ecosystem,
    fixedVersion: f.fixedVersion ?? "",
    severity: f.severity,
    tier: f.tier,
    suppressed: f.suppressed ? f.suppressed.kind : "",
    layer: f.layer,
  }));
  const json = JSON.stringify(rows);
  const set = createHash("sha256").update(json).digest("base64url").slice(0, 22);
  return { slices: splitJson(json), set, count: rows.length };
}

/**
 * The `findings` table (PK image digest): the findings of the image's latest verdict as one JSON
 * array, in as few rows as the property limit allows (one for ~150 findings) — not a row per finding,
 * which cost a fleet rescan ≈ 1.7 ms per image. The new set replaces the old in one partition
 * transaction; a redelivery with the same set writes nothing, and rows no longer part of it (an
 * older longer set, a row per finding from before this layout) are deleted after it. `source`: a
 * report's findings, or their row set made already.
 */
export async function writeFindings(
  tables: TableStore,
  digest: string,
  source: { findings: readonly Finding[] } | FindingRowSet,
): Promise<void> {
  const { slices, set, count } = "slices" in source ? source : findingRowSetOf(source.findings);
  const stored = new Map<string, TableProperties>();
  for await (const row of tables.query(TABLES.findings, { partitionKey: digest }))
    stored.set(row.rowKey, row.properties);
  // the same set already there, every part of it (a redelivery, a rescan that finds the same): nothing
  // to write. Every part is checked: Table Storage commits a long set in several batches, and a crash
  // between them leaves the first part new and the later ones old
  const written = slices.every((_, n) => {
    const part = PartSchema.safeParse(stored.get(partKey(n)));
    return part.success && part.data.set === set && part.data.parts === slices.length;
  });
  if (!written)
    await tables.upsertMany(
      TABLES.findings,
      digest,
      slices.map((slice, part) => ({
        rowKey: partKey(part),
        properties: { json: slice, part, parts: slices.length, set, count },
      })),
    );
  const keep = new Set(slices.map((_, part) => partKey(part)));
  for (const rowKey of stored.keys())
    if (!keep.has(rowKey)) await tables.delete(TABLES.findings, digest, rowKey);
}

/** A row per finding (before the set layout): its aliases as a JSON text. */
const LegacyRowSchema = FindingRowSchema.extend({ aliases: z.string() });

function aliasesOf(text: string): string[] {
  try {
    const parsed = z.array(z.string()).safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** The set's JSON in slices of at most PART_CHARS, never splitting a surrogate pair. */
function splitJson(json: string): string[] {
  const slices: string[] = [];
  for (let at = 0; at < json.length || slices.length === 0; ) {
    let end = Math.min(at + PART_CHARS, json.length);
    const last = json.charCodeAt(end - 1);
    if (end < json.length && last >= 0xd800 && last <= 0xdbff) end--;
    slices.push(json.slice(at, end));
    at = end;
  }
  return slices;
}

/**
 * The findings of an image's latest verdict ([] when it has none yet). Throws when the rows do not
 * make one whole set (a rewrite is under way; its redelivery completes it).
 */
export async function readFindings(tables: TableStore, digest: string): Promise<FindingRow[]> {
  const parts = new Map<number, z.infer<typeof PartSchema>>();
  const perFinding: FindingRow[] = [];
  for await (const row of tables.query(TABLES.findings, { partitionKey: digest })) {
    const part = PartSchema.safeParse(row.properties);
    if (part.success) {
      parts.set(part.data.part, part.data);
      continue;
    }
    // a row per finding, as verdicts before this layout wrote them (replaced at the next verdict)
    const legacy = LegacyRowSchema.safeParse(row.properties);
    if (legacy.success) perFinding.push({ ...legacy.data, aliases: aliasesOf(legacy.data.aliases) });
  }
  const head = parts.get(0);
  if (!head) return perFinding;
  let json = "";
  for (let n = 0; n < head.parts; n++) {
    const part = parts.get(n);
    if (!part || part.set !== head.set)
      throw new ScanError(
        "concurrent-update",
        `the findings rows of ${digest} are incomplete: a verdict is rewriting them`,
        { permanent: false },
      );
    json += part.json;
  }
  return z.array(FindingRowSchema).parse(JSON.parse(json));
}

/** The package index's partition: a package as advisories name it (db-changes.ts's pairs). */
const indexPartition = (ecosystem: string, name: string) => `${ecosystem}|${packageKey(ecosystem, name)}`;

const IndexRowSchema = z.object({
  scanId: z.string(),
  registry: z.string(),
  repository: z.string(),
  digest: z.string(),
});
/** A stored image the package index names. */
export type IndexedImage = z.infer<typeof IndexRowSchema>;

/**
 * The `packageindex` table: ecosystem + package (by the name and ecosystem advisories use) → the
 * images that carry it, for targeted rescans.
 */
export async function writePackageIndex(tables: TableStore, scanId: string, report: Report): Promise<void> {
  const { registry, repository, digest } = report.image;
  const limit = pLimit(WRITE_CONCURRENCY);
  const seen = new Map<string, string>();
  for (const pkg of report.packages) {
    const { ecosystem, name, version } = advisoryCoordinates(pkg);
    seen.set(indexPartition(ecosystem, name), version);
  }
  await Promise.all(
    [...seen].map(([partition, version]) =>
      limit(() =>
        tables.upsert(TABLES.packageIndex, partition, `${registry}/${repository}@${digest}`, {
          scanId,
          version,
          registry,
          repository,
          digest,
        }),
      ),
    ),
  );
}

/**
 * The stored images that contain one of `packages`, each once however many of them it carries
 * (rows from before the index named its image are read from their key).
 */
export async function imagesContaining(
  tables: TableStore,
  packages: Iterable<{ ecosystem: string; name: string }>,
): Promise<IndexedImage[]> {
  const images = new Map<string, IndexedImage>();
  const partitions = new Set([...packages].map((p) => indexPartition(p.ecosystem, p.name)));
  for (const partitionKey of partitions) {
    for await (const row of tables.query(TABLES.packageIndex, { partitionKey })) {
      if (images.has(row.rowKey)) continue;
      const parsed = IndexRowSchema.safeParse(row.properties);
      const image = parsed.success ? parsed.data : fromRowKey(row.rowKey, row.properties.scanId);
      if (image) images.set(row.rowKey, image);
    }
  }
  return [...images.values()];
}

function fromRowKey(rowKey: string, scanId: unknown): IndexedImage | undefined {
  const at = rowKey.lastIndexOf("@");
  const slash = rowKey.indexOf("/");
  if (at < 0 || slash < 0 || slash > at || typeof scanId !== "string") return undefined;
  return {
    scanId,
    registry: rowKey.slice(0, slash),
    repository: rowKey.slice(slash + 1, at),
    digest: rowKey.slice(at + 1),
  };
}
