import pLimit from "p-limit";
import { z } from "zod";
import { advisoryCoordinates } from "../matching/match.js";
import type { Report } from "../model/report.js";
import type { TableProperties, TableStore } from "../ports/table-store.js";
import { packageKey } from "../vulndb/db-format.js";
import { TABLES } from "./tables.js";

/** Rows written at once: a bounded number in flight instead of one round trip each. */
const WRITE_CONCURRENCY = 16;

/**
 * The `findings` table (PK image digest, RK `id|package|version`): one row per finding of the
 * latest verdict. The new set replaces the old — rows no longer found are deleted.
 */
export async function writeFindings(tables: TableStore, digest: string, report: Report): Promise<void> {
  const rows = report.findings.map((f) => ({
    rowKey: `${f.id}|${f.package.name}|${f.package.version}`,
    properties: {
      id: f.id,
      aliases: JSON.stringify(f.aliases),
      package: f.package.name,
      version: f.package.version,
      ecosystem: f.package.ecosystem,
      fixedVersion: f.fixedVersion ?? "",
      severity: f.severity,
      tier: f.tier,
      suppressed: f.suppressed ? f.suppressed.kind : "",
      layer: f.layer,
    },
  }));
  // the rows there now first: a rescan that finds the same rewrites none of them, and the new set
  // is not read back to find the rows to delete
  const stored = new Map<string, TableProperties>();
  for await (const row of tables.query(TABLES.findings, { partitionKey: digest }))
    stored.set(row.rowKey, row.properties);
  const changed = rows.filter((r) => {
    const before = stored.get(r.rowKey);
    return !before || !sameProperties(before, r.properties);
  });
  // one partition (the digest): one transaction for the set, not a round trip per finding
  if (changed.length > 0) await tables.upsertMany(TABLES.findings, digest, changed);
  const keep = new Set(rows.map((r) => r.rowKey));
  for (const rowKey of stored.keys())
    if (!keep.has(rowKey)) await tables.delete(TABLES.findings, digest, rowKey);
}

/** Whether a stored row already holds exactly these (string) properties. */
function sameProperties(stored: TableProperties, wanted: Record<string, string>): boolean {
  const names = Object.keys(wanted);
  if (Object.keys(stored).length !== names.length) return false;
  return names.every((name) => stored[name] === wanted[name]);
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
