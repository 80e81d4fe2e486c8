import type { VerdictMessage } from "../model/messages.js";
import { SEVERITY_ORDER } from "../model/report.js";
import { writeFindings, writePackageIndex } from "./findings.js";
import { trackingMessage, verdictRun } from "../tracking/tracking-message.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { readScan, updateScan } from "./scan-state.js";
import { addImageTag, writeScannedImage } from "./scanned-images.js";
import { readInventory, readMatches, storeReport } from "./stage-blobs.js";
import { blobKeys } from "./tables.js";
import { boundedDiff } from "./verdict-diff.js";
import { recordVerdict } from "./verdict-history.js";
import { ScanError } from "../model/errors.js";

/** At most this many findings per diff list travel to tracking; the image API has them all. */
const TRACKED_DIFF_ENTRIES = 200;

/**
 * verdict: apply the policy, store the report, and write the images, findings and package-index
 * tables. Every write is an upsert keyed by content, so a redelivery rewrites the same rows.
 */
export async function verdictStage(msg: VerdictMessage, deps: PipelineDeps): Promise<void> {
  const [found, inventory, stored] = await Promise.all([
    readScan(deps.tables, msg.scanId),
    readInventory(deps.blobs, msg.inventoryKey),
    readMatches(deps.blobs, msg.reportKey),
  ]);
  if (!found || found.state.status === "failed") return;
  if (!inventory || !stored)
    throw new ScanError("stage-blob-missing", `scan ${msg.scanId}: inventory or matches blob missing`, {
      permanent: false,
    });
  inventory.image.tags = found.state.tags;
  // the inventory is stored per digest: the same image in another repository is this repository's (its accepted risks, its report)
  Object.assign(inventory.image, {
    ref: msg.image.ref,
    registry: msg.image.registry,
    repository: msg.image.repository,
  });

  const report = await deps.decide(inventory, stored.matches, stored.db);
  const { registry, repository, digest } = msg.image;
  const reportKey = blobKeys.report(registry, repository, digest);
  // recorded before the report: a redelivery finds its own record and the same diff
  const record = await recordVerdict(
    deps.blobs,
    { registry, repository, digest },
    {
      // the DB version, the rescan run and a person's request name the run: a second `/portcullis rescan` or sweep is a new verdict, not a redelivery
      verdictId: [
        msg.scanId,
        msg.reportKey,
        msg.cause ?? "push",
        msg.dbVersion,
        msg.rescanId ?? "",
        msg.request ?? "",
      ].join("|"),
      cause: msg.cause ?? "push",
      at: deps.now().toISOString(),
      dbVersion: msg.dbVersion,
      decision: report.verdict?.decision ?? "pass",
    },
    report.findings,
  );
  await storeReport(deps.blobs, reportKey, report);

  const counts = Object.fromEntries(SEVERITY_ORDER.map((s) => [s, 0])) as Record<string, number>;
  for (const f of report.findings) if (!f.suppressed) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  const decision = report.verdict?.decision ?? "pass";
  await writeScannedImage(deps.tables, {
    registry,
    repository,
    digest,
    scanId: msg.scanId,
    tags: found.state.tags,
    platform: msg.image.platform,
    os: report.image.os ? `${report.image.os.family} ${report.image.os.version}` : "",
    status: "done",
    decision,
    reasons: report.verdict?.reasons ?? [],
    counts,
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
    if (!found.state.tags.includes(tag)) await addImageTag(deps.tables, finished!.state, tag);
  // the verdict is answerable now (gate, images); the per-finding and per-package rows follow — a
  // crash before they are written redelivers this message, which rewrites everything
  deps.log(`scan ${msg.scanId}: ${registry}/${repository}@${digest} → ${decision}`);
  // a rescan re-matches the same stored inventory: its package-index rows are already there (the bench's largest cost)
  await Promise.all([
    writeFindings(deps.tables, digest, report),
    ...(msg.cause ? [] : [writePackageIndex(deps.tables, msg.scanId, report)]),
  ]);
  // GitHub tracking runs on its own queue: an outage there never holds up the verdict or the gate
  if (deps.tracking) {
    const tags = finished?.state.tags ?? found.state.tags;
    const verdict = report.verdict ?? { decision, reasons: [] };
    const { body, messageId } = trackingMessage({
      ...{ scanId: msg.scanId, image: { ...msg.image, tags }, reportKey, verdict, dbVersion: msg.dbVersion },
      ...{ cause: "verdict", at: found.state.createdAt, run: verdictRun(msg, found.state.attempt) },
    });
    // the diff rides along, its lists bounded: a queue message has a size limit
    const verdictRecord = record.diff
      ? { ...record, diff: boundedDiff(record.diff, TRACKED_DIFF_ENTRIES) }
      : record;
    await deps.bus.send("tracking", { ...body, verdictRecord }, { messageId });
  }
}
