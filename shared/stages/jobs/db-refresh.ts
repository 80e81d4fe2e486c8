import pLimit from "p-limit";
import { ANALYZERS, analyzerSetVersion } from "../../analysis/registry.js";
import { formatImageRef } from "../../model/image-reference.js";
import type { BlobStore } from "../../ports/blob-store.js";
import { changeSetOf, changesNothing, type DbChangeSet } from "../../vulndb/db-changes.js";
import { type UpdateOptions, updateDb } from "../../vulndb/db-update.js";
import { imagesContaining } from "../findings.js";
import type { PipelineDeps } from "../pipeline-deps.js";
import { readScan } from "../scan-state.js";
import { imagePartition, queryScannedImages, readScannedImage } from "../scanned-images.js";
import { matchingMessage } from "../send-matching.js";
import { dbRescanRunId } from "./schedules.js";

/** What one DB refresh did: the DB version, and the images it sent to be matched again. */
export interface DbRefreshResult {
  version: string;
  /** false when no feed changed (no new DB version) */
  changed: boolean;
  /** packages and CVEs the update changed */
  packages: number;
  changedCves: number;
  /** images sent to matching again, each once */
  queued: number;
  /** queued images whose stored inventory was made by other analyzer versions: only a re-pull (a new scan) would apply the current ones */
  needRepull: string[];
  /** images the package index names that could not be queued, and why */
  notQueued: { image: string; reason: string }[];
}

/** Table reads in flight at once. */
const RESCAN_CONCURRENCY = 16;
/** Images per batch send. */
const SEND_CHUNK = 256;

/**
 * The DB refresh (timer and `POST /api/db/refresh`): fetch the feeds (an unchanged feed costs one
 * 304), then re-match — from the stored inventory, nothing pulled — exactly the stored images the
 * package index says carry a package whose advisories changed. An update that changes nothing
 * starts nothing.
 */
export async function refreshDbAndRescan(
  deps: PipelineDeps,
  dbStore: BlobStore,
  options: UpdateOptions,
): Promise<DbRefreshResult> {
  const result = await updateDb(dbStore, { log: deps.log, ...options });
  const version = result.metadata.version;
  const none = {
    version,
    changed: false,
    packages: 0,
    changedCves: 0,
    queued: 0,
    needRepull: [],
    notQueued: [],
  };
  if (!result.changed) return none;
  const changes = await changeSetOf(dbStore, result.metadata);
  const outcome = await rescanChangedImages(deps, changes);
  return {
    ...outcome,
    changed: true,
    packages: changes.packages.length,
    changedCves: changes.changedCves.length,
  };
}

/** The targeted rescans a change set calls for (every image on another DB version when the DB is new). */
export async function rescanChangedImages(
  deps: PipelineDeps,
  changes: DbChangeSet,
): Promise<Pick<DbRefreshResult, "version" | "queued" | "needRepull" | "notQueued">> {
  const outcome = {
    version: changes.version,
    queued: 0,
    needRepull: [] as string[],
    notQueued: [] as { image: string; reason: string }[],
  };
  if (changesNothing(changes)) {
    deps.log(`vulnerability DB ${changes.version}: no advisory changed, nothing to rescan`);
    return outcome;
  }
  const targets: { registry: string; repository: string; digest: string }[] = [];
  if (changes.full) {
    // no previous DB to compare with: whatever was matched against another one is matched again
    for await (const image of queryScannedImages(deps.tables))
      if (image.dbVersion !== changes.version) targets.push(image);
  } else {
    targets.push(...(await imagesContaining(deps.tables, changes.packages)));
  }
  const current = analyzerSetVersion(deps.analyzers ?? ANALYZERS);
  const runId = dbRescanRunId(changes.version);
  const limit = pLimit(RESCAN_CONCURRENCY);
  // chunk by chunk: the reads in parallel, then one batch send (one commit on the local store)
  for (let i = 0; i < targets.length; i += SEND_CHUNK) {
    const chunk = await Promise.all(
      targets.slice(i, i + SEND_CHUNK).map((target) =>
        limit(async () => {
          const ref = formatImageRef(target);
          const image = await readScannedImage(
            deps.tables,
            imagePartition(target.registry, target.repository),
            target.digest,
          );
          const scan = image ? await readScan(deps.tables, image.scanId) : undefined;
          if (!image || !scan) {
            outcome.notQueued.push({ image: ref, reason: "no stored verdict (the image's rows are gone)" });
            return undefined;
          }
          // a scan still running matches against the new DB on its own; a failed one has no inventory to trust
          if (scan.state.status !== "done") {
            outcome.notQueued.push({ image: ref, reason: `its scan is ${scan.state.status}` });
            return undefined;
          }
          const repull = Boolean(scan.state.analyzerSet && scan.state.analyzerSet !== current);
          const message = matchingMessage(scan.state, {
            reason: "rescan",
            runId,
            inventoryKey: image.inventoryKey,
            cause: "db-update",
          });
          return { ref, repull, message };
        }),
      ),
    );
    const sending = chunk.flatMap((c) => (c ? [c] : []));
    if (sending.length > 0)
      await deps.bus.sendBatch(
        "matching",
        sending.map((c) => c.message),
      );
    outcome.queued += sending.length;
    for (const { ref, repull } of sending) if (repull) outcome.needRepull.push(ref);
  }
  outcome.needRepull.sort();
  deps.log(
    `vulnerability DB ${changes.version}: ${changes.packages.length} package(s), ${changes.changedCves.length} CVE rating(s) changed; ${outcome.queued} image(s) re-matched`,
  );
  if (outcome.needRepull.length > 0)
    deps.log(
      `  ${outcome.needRepull.length} of them were analysed by other analyzer versions; a new scan (re-pull) would apply the current ones: ${outcome.needRepull.slice(0, 10).join(", ")}`,
    );
  for (const { image, reason } of outcome.notQueued.slice(0, 10))
    deps.log(`  not re-matched: ${image}: ${reason}`);
  return outcome;
}
