import type { Match } from "../matching/match.js";
import type { VerdictMessage } from "../model/messages.js";
import type { Inventory, Report } from "../model/report.js";
import { trackingMessage, verdictRun } from "../tracking/tracking-message.js";
import { writeFindings, writePackageIndex } from "./findings.js";
import type { DbStamp, PipelineDeps } from "./pipeline-deps.js";
import { type ScanState, updateScan } from "./scan-state.js";
import { addImageTag, writeScannedImage } from "./scanned-images.js";
import { reportBlob } from "./stage-blobs.js";
import { asBuffer, type DecidedReport, decidedReport } from "./decided-report.js";
import { putBlobs } from "../ports/blob-store.js";
import { blobKeys } from "./tables.js";
import { boundedDiff } from "./verdict-diff.js";
import { clearRescanFailure, planVerdictRecord, verdictFindingsFromBytes } from "./verdict-history.js";

/** At most this many findings per diff list travel to tracking; the image API has them all. */
const TRACKED_DIFF_ENTRIES = 200;

/**
 * The verdict of one platform image from its inventory and matches: apply the policy, store the
 * report, and write the images, findings and package-index tables. The verdict stage runs it on a
 * `verdict` message; the matching stage runs it straight after re-matching a stored inventory (a
 * rescan), so a rescan neither writes the matches blob nor reads its inventory twice. `run` is the
 * verdict message either way: its fields name the verdict run (verdict id, tracking run). Every write
 * is an upsert keyed by content, so a redelivery rewrites the same rows.
 */
export async function applyVerdict(
  run: VerdictMessage,
  scan: ScanState,
  inventory: Inventory,
  matched: { matches: Match[]; db: DbStamp },
  deps: PipelineDeps,
): Promise<void> {
  asVerdictImage(inventory, scan, run.image);
  const report = await deps.decide(inventory, matched.matches, matched.db);
  await storeVerdict(run, scan, decidedReport(report, matched.db), deps, report);
}

/**
 * The inventory as the image of this verdict: the scan row's tags, and the repository the run names
 * (the inventory is stored per digest: the same image in another repository is this repository's,
 * its accepted risks, its report). Before the policy runs on it.
 */
export function asVerdictImage(inventory: Inventory, scan: ScanState, image: VerdictMessage["image"]): void {
  inventory.image.tags = scan.tags;
  Object.assign(inventory.image, { ref: image.ref, registry: image.registry, repository: image.repository });
}

/**
 * A decided report's records: the verdict record and diff, the report blob, the images, scans,
 * findings and package-index rows, and tracking. `report`: the object, when the caller has it (the
 * package index of a push is written from it; a rescan's is there already).
 */
export async function storeVerdict(
  run: VerdictMessage,
  scan: ScanState,
  decided: DecidedReport,
  deps: PipelineDeps,
  report?: Report,
): Promise<void> {
  const { registry, repository, digest } = run.image;
  const reportKey = blobKeys.report(registry, repository, digest);
  const decision = decided.verdict.decision;
  const { record, writes } = await planVerdictRecord(
    deps.blobs,
    { registry, repository, digest },
    {
      // the DB version, the rescan run and a person's request name the run: a second `/portcullis rescan` or sweep is a new verdict, not a redelivery
      verdictId: [
        run.scanId,
        run.reportKey,
        run.cause ?? "push",
        run.dbVersion,
        run.rescanId ?? "",
        run.request ?? "",
      ].join("|"),
      cause: run.cause ?? "push",
      at: deps.now().toISOString(),
      dbVersion: run.dbVersion,
      decision,
    },
    verdictFindingsFromBytes(decided.findingStates),
  );
  // the verdict record, then the report: one commit where the store can, else in that order (a
  // redelivery finds its own record and answers the same diff)
  await putBlobs(deps.blobs, [...writes, reportBlob(reportKey, asBuffer(decided.report))]);
  await clearRescanFailure(deps.blobs, { registry, repository, digest });

  await writeScannedImage(deps.tables, {
    registry,
    repository,
    digest,
    scanId: run.scanId,
    tags: scan.tags,
    platform: run.image.platform,
    os: decided.os,
    status: "done",
    decision,
    reasons: decided.verdict.reasons,
    counts: decided.counts,
    findings: decided.findings,
    packages: decided.packages,
    dbVersion: run.dbVersion,
    inventoryKey: run.inventoryKey,
    reportKey,
    scannedAt: deps.now().toISOString(),
  });
  const finished = await updateScan(
    deps.tables,
    run.scanId,
    (s) =>
      s.status === "done" && s.decision === decision
        ? undefined
        : { ...s, status: "done", decision, reason: undefined },
    deps.now,
  );
  // a tag pushed while this verdict ran reached the scan row after we read it: carry it over
  for (const tag of finished?.state.tags ?? [])
    if (!scan.tags.includes(tag)) await addImageTag(deps.tables, finished!.state, tag);
  // the verdict is answerable now (gate, images); the per-finding and per-package rows follow — a
  // crash before they are written redelivers the message, which rewrites everything
  deps.log(`scan ${run.scanId}: ${registry}/${repository}@${digest} → ${decision}`);
  // a rescan re-matches the same stored inventory: its package-index rows are already there (the bench's largest cost)
  await Promise.all([
    writeFindings(deps.tables, digest, decided.findingRows),
    ...(run.cause
      ? []
      : [
          writePackageIndex(
            deps.tables,
            run.scanId,
            report ?? (JSON.parse(asBuffer(decided.report).toString("utf8")) as Report),
          ),
        ]),
  ]);
  // GitHub tracking runs on its own queue: an outage there never holds up the verdict or the gate
  if (deps.tracking) {
    const tags = finished?.state.tags ?? scan.tags;
    const verdict = decided.verdict;
    const { body, messageId } = trackingMessage({
      ...{ scanId: run.scanId, image: { ...run.image, tags }, reportKey, verdict, dbVersion: run.dbVersion },
      ...{ cause: "verdict", at: scan.createdAt, run: verdictRun(run, scan.attempt) },
    });
    // the diff rides along, its lists bounded: a queue message has a size limit
    const verdictRecord = record.diff
      ? { ...record, diff: boundedDiff(record.diff, TRACKED_DIFF_ENTRIES) }
      : record;
    await deps.bus.send("tracking", { ...body, verdictRecord }, { messageId });
  }
}
