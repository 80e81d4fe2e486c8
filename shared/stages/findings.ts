import pLimit from "p-limit";
import type { Report } from "../model/report.js";
import type { TableStore } from "../ports/table-store.js";
import { TABLES } from "./tables.js";

/** Rows written at once: a bounded number in flight instead of one round trip each. */
const WRITE_CONCURRENCY = 16;

/**
 * The `findings` table (PK image digest, RK `id|package|version`): one row per finding of the
 * latest verdict. The new set replaces the old — rows no longer found are deleted.
 */
export async function writeFindings(tables: TableStore, digest: string, report: Report): Promise<void> {
  const keep = new Set<string>();
  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    report.findings.map((f) => {
      const rowKey = `${f.id}|${f.package.name}|${f.package.version}`;
      keep.add(rowKey);
      return limit(() =>
        tables.upsert(TABLES.findings, digest, rowKey, {
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
        }),
      );
    }),
  );
  for await (const row of tables.query(TABLES.findings, { partitionKey: digest }))
    if (!keep.has(row.rowKey)) await tables.delete(TABLES.findings, digest, row.rowKey);
}

/**
 * The `packageindex` table: ecosystem + package (by source, as advisories name it) → the images
 * that carry it, for targeted rescans.
 */
export async function writePackageIndex(tables: TableStore, scanId: string, report: Report): Promise<void> {
  const { registry, repository, digest } = report.image;
  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    report.packages.map((pkg) =>
      limit(() =>
        tables.upsert(
          TABLES.packageIndex,
          `${pkg.ecosystem}|${pkg.source?.name ?? pkg.name}`,
          `${registry}/${repository}@${digest}`,
          { scanId, version: pkg.source?.version ?? pkg.version },
        ),
      ),
    ),
  );
}
