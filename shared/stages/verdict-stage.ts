import pLimit from "p-limit";
import { z } from "zod";
import { MatchSchema } from "../matching/match.js";
import type { VerdictMessage } from "../model/messages.js";
import { InventorySchema, type Report, SEVERITY_ORDER } from "../model/report.js";
import { trackingMessage } from "../tracking/tracking-message.js";
import { readJsonBlob } from "./match-stage.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { readScan, type ScanState, updateScan } from "./scan-state.js";
import { blobKeys, TABLES } from "./tables.js";

const StoredMatchesSchema = z.object({
  db: z.object({ version: z.string(), updatedAt: z.string() }),
  matches: z.array(MatchSchema),
});

const WRITE_CONCURRENCY = 16;

/** The images table's partition: one per repository (registry included, so two registries never mix). */
export const imagePartition = (registry: string, repository: string) => `${registry}/${repository}`;

/**
 * verdict: apply the policy, store the report, and write the images, findings and package-index
 * tables. Every write is an upsert keyed by content, so a redelivery rewrites the same rows.
 */
export async function verdictStage(msg: VerdictMessage, deps: PipelineDeps): Promise<void> {
  const [found, inventory, stored] = await Promise.all([
    readScan(deps.tables, msg.scanId),
    readJsonBlob(deps.blobs, msg.inventoryKey, (v) => InventorySchema.parse(v)),
    readJsonBlob(deps.blobs, msg.reportKey, (v) => StoredMatchesSchema.parse(v)),
  ]);
  if (!found || found.state.status === "failed") return;
  if (!inventory || !stored) throw new Error(`scan ${msg.scanId}: inventory or matches blob missing`);
  inventory.image.tags = found.state.tags;

  const report = await deps.decide(inventory, stored.matches, stored.db);
  const { registry, repository, digest } = msg.image;
  const reportKey = blobKeys.report(registry, repository, digest);
  await deps.blobs.put(reportKey, JSON.stringify(report, null, 2), { contentType: "application/json" });

  const counts = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, 0])) as Record<string, number>;
  for (const f of report.findings) if (!f.suppressed) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  const decision = report.verdict?.decision ?? "pass";
  await deps.tables.upsert(TABLES.images, imagePartition(registry, repository), digest, {
    registry,
    repository,
    digest,
    scanId: msg.scanId,
    tags: JSON.stringify(found.state.tags),
    platform: JSON.stringify(msg.image.platform),
    os: report.image.os ? `${report.image.os.family} ${report.image.os.version}` : "",
    status: "done",
    decision,
    reasons: JSON.stringify(report.verdict?.reasons ?? []),
    counts: JSON.stringify(counts),
    findings: report.findings.length,
    packages: report.packages.length,
    dbVersion: msg.dbVersion,
    inventoryKey: msg.inventoryKey,
    reportKey,
    scannedAt: deps.now().toISOString(),
  });
  const finished = await updateScan(
    deps.tables,
    msg.scanId,
    (s) =>
      s.status === "done" && s.decision === decision
        ? undefined
        : { ...s, status: "done", decision, reason: undefined },
    deps.now,
  );
  // a tag pushed while this verdict ran reached the scan row after we read it: carry it over
  for (const tag of finished?.state.tags ?? [])
    if (!found.state.tags.includes(tag)) await recordTag(deps, finished!.state, tag);
  // the verdict is answerable now (gate, images); the per-finding and per-package rows follow — a
  // crash before they are written redelivers this message, which rewrites everything
  deps.log(`scan ${msg.scanId}: ${registry}/${repository}@${digest} → ${decision}`);
  await Promise.all([writeFindings(deps, digest, report), writePackageIndex(deps, msg.scanId, report)]);
  // GitHub tracking runs on its own queue: an outage there never holds up the verdict or the gate
  if (deps.tracking) {
    const tags = finished?.state.tags ?? found.state.tags;
    const verdict = report.verdict ?? { decision, reasons: [] };
    const { body, messageId } = trackingMessage({
      ...{ scanId: msg.scanId, image: { ...msg.image, tags }, reportKey, verdict, dbVersion: msg.dbVersion },
      ...{ cause: "verdict", at: found.state.createdAt, run: deps.now().toISOString() },
    });
    await deps.bus.send("tracking", body, { messageId });
  }
}

/** ecosystem + package (by source, as advisories name it) → the digests that carry it, for targeted rescans. */
async function writePackageIndex(deps: PipelineDeps, scanId: string, report: Report): Promise<void> {
  const { registry, repository, digest } = report.image;
  // row writes are independent: a bounded number in flight instead of one round trip each
  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    report.packages.map((pkg) =>
      limit(() =>
        deps.tables.upsert(
          TABLES.packageIndex,
          `${pkg.ecosystem}|${pkg.source?.name ?? pkg.name}`,
          `${registry}/${repository}@${digest}`,
          { scanId, version: pkg.source?.version ?? pkg.version },
        ),
      ),
    ),
  );
}

/** Findings of one digest: the new set replaces the old (rows no longer found are deleted). */
async function writeFindings(deps: PipelineDeps, digest: string, report: Report): Promise<void> {
  const keep = new Set<string>();
  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    report.findings.map((f) => {
      const rowKey = `${f.id}|${f.package.name}|${f.package.version}`;
      keep.add(rowKey);
      return limit(() =>
        deps.tables.upsert(TABLES.findings, digest, rowKey, {
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
  for await (const row of deps.tables.query(TABLES.findings, { partitionKey: digest }))
    if (!keep.has(row.rowKey)) await deps.tables.delete(TABLES.findings, digest, row.rowKey);
}

/** An image already scanned was pushed under another tag: the images row learns the tag. */
export async function recordTag(deps: PipelineDeps, scan: ScanState, tag: string): Promise<void> {
  if (!scan.digest) return;
  const row = await deps.tables.get(
    TABLES.images,
    imagePartition(scan.registry, scan.repository),
    scan.digest,
  );
  if (!row) return;
  const tags = new Set<string>(JSON.parse(String(row.properties.tags ?? "[]")) as string[]);
  if (tags.has(tag)) return;
  tags.add(tag);
  await deps.tables.updateIfMatch(
    TABLES.images,
    row.partitionKey,
    row.rowKey,
    { ...row.properties, tags: JSON.stringify([...tags]) },
    row.etag,
  );
}
