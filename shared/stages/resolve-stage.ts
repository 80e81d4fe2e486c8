import { loadLayerReport } from "../analysis/layer-cache.js";
import { isForeignLayer } from "../analysis/inventory-image.js";
import { ANALYZERS, analyzerSetVersion } from "../analysis/registry.js";
import type { ResolvedImage } from "../model/image.js";
import {
  type LayerAnalysisMessage,
  messageId,
  type ScanRequestMessage,
  scanIdOf,
} from "../model/messages.js";
import { parsePlatformSelector } from "../registry/platform-selection.js";
import { formatImageRef } from "../model/image-reference.js";
import { ScanError } from "../model/errors.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import {
  attemptPart,
  createRequestScan,
  createScan,
  readScan,
  type ScanState,
  updateScan,
} from "./scan-state.js";
import { addImageTag } from "./scanned-images.js";
import { storeImageConfig } from "./stage-blobs.js";
import { blobKeys } from "./tables.js";
import { identityOf, sendMatching } from "./send-matching.js";
import { movedMessage } from "../tracking/tracking-message.js";

/**
 * scan-requests: resolve the reference; an index fans out one platform scan per image, and each
 * layer not yet in the layer cache becomes one layer-analysis message. Redelivery is harmless: rows
 * are created once and messages carry deterministic ids.
 */
export async function resolveScan(msg: ScanRequestMessage, deps: PipelineDeps): Promise<void> {
  const { digest } = msg.image;
  await createRequestScan(deps.tables, msg, deps.now());
  // a message on the queue is not trusted to have passed intake: fail closed before any request
  const allowList = deps.registryAllowList;
  if (allowList && !allowList.allows(msg.image.registry)) {
    throw new ScanError("registry-not-allowed", allowList.refusal(msg.image.registry), { permanent: true });
  }
  const source = await deps.openSource(formatImageRef(msg.image));
  let images: ResolvedImage[];
  try {
    // a pushed index is deployed by its own digest: every platform is scanned unless the request names one
    images = await source.resolve(parsePlatformSelector(msg.platform ?? "all"));
  } finally {
    await source.close?.();
  }
  const children: string[] = [];
  for (const image of images) children.push(await startPlatformScan(image, msg, deps));
  const markResolved = (scanId: string, extra: Partial<ScanState> = {}) =>
    updateScan(
      deps.tables,
      scanId,
      (s) =>
        s.status === "analyzing" && s.children.join() === children.join()
          ? undefined
          : // a request resolved again after failing no longer shows the old failure
            { ...s, status: "analyzing", reason: undefined, children, ...extra },
      deps.now,
    );
  const indexDigest = images[0]?.indexDigest;
  await markResolved(msg.scanId, digest ? {} : { digest: indexDigest ?? images[0]?.identity.digest });
  if (!digest && indexDigest) {
    // asked for by tag: deployments name the index digest, so the gate must find this request by it too
    const byDigest: ScanRequestMessage = {
      ...msg,
      scanId: scanIdOf({
        registry: msg.image.registry,
        repository: msg.image.repository,
        digest: indexDigest,
      }),
      image: { ...msg.image, digest: indexDigest },
    };
    await createRequestScan(deps.tables, byDigest, deps.now());
    await markResolved(byDigest.scanId);
  }
  deps.log(`scan ${msg.scanId}: ${formatImageRef(msg.image)} → ${children.length} platform scan(s)`);
}

async function startPlatformScan(
  image: ResolvedImage,
  msg: ScanRequestMessage,
  deps: PipelineDeps,
): Promise<string> {
  const { identity } = image;
  const scanId = scanIdOf({
    registry: identity.registry,
    repository: identity.repository,
    digest: identity.digest,
    platform: identity.platform,
  });
  const analyzers = deps.analyzers ?? ANALYZERS;
  const analyzerSet = analyzerSetVersion(analyzers);
  const tag = msg.image.tag;

  const existing = await readScan(deps.tables, scanId);
  if (existing && existing.state.status !== "failed") {
    // pushed again (another tag) or a redelivery: remember the tag, resend what is still outstanding
    await sendOutstanding((await rememberTag(existing.state, tag, deps)) ?? existing.state, deps);
    // a scanned digest pushed again is its stream's current image now: tracking follows, on the stored verdict
    if (deps.tracking && existing.state.status === "done" && msg.trigger.kind === "push") {
      const moved = movedMessage(
        identityOf(existing.state),
        existing.state.decision,
        tag,
        deps.now(),
        msg.trigger.eventId,
      );
      await deps.bus.send("tracking", moved.body, { messageId: moved.messageId });
    }
    return scanId;
  }

  const layers = image.layers;
  // the layers without a stored report, each digest once (an image may repeat a layer)
  const candidates = [
    ...new Set(layers.filter((l) => deps.allowForeignLayers || !isForeignLayer(l)).map((l) => l.digest)),
  ];
  // a report that does not parse counts as missing (loadLayerReport), so the layer is analysed again
  const cached = await Promise.all(candidates.map((d) => loadLayerReport(deps.blobs, d, analyzerSet)));
  const pending = candidates.filter((_, i) => !cached[i]);
  // stored before the row that names it, so matching always finds the config it is told about
  const configDigest = image.configDigest === "" ? undefined : image.configDigest;
  if (configDigest) await storeImageConfig(deps.blobs, blobKeys.config(configDigest), image.config);
  const now = deps.now().toISOString();
  const state: ScanState = {
    scanId,
    kind: "platform",
    status: pending.length > 0 ? "analyzing" : "matching",
    registry: identity.registry,
    repository: identity.repository,
    digest: identity.digest,
    tags: tag ? [tag] : identity.tags,
    platform: identity.platform,
    layers,
    pending,
    ...(pending.length === 0 ? { joinedBy: "resolve" } : {}),
    children: [],
    analyzerSet,
    ...(configDigest ? { configDigest } : {}),
    createdAt: now,
    updatedAt: now,
  };
  if (existing) {
    // a failed scan is retried from the start when the image is asked for again — under new message
    // ids (duplicate detection would drop the failed attempt's), and only if it is still failed:
    // a concurrent resolve that restarted it first must not have its progress reset
    const restarted = await updateScan(
      deps.tables,
      scanId,
      (current) =>
        current.status === "failed"
          ? {
              ...state,
              tags: [...new Set([...current.tags, ...state.tags])],
              attempt: (current.attempt ?? 0) + 1,
              createdAt: current.createdAt,
            }
          : undefined,
      deps.now,
    );
    if (!restarted)
      throw new ScanError("concurrent-update", `scan ${scanId} vanished while being restarted`, {
        permanent: false,
      });
    if (!restarted.changed) {
      await sendOutstanding((await rememberTag(restarted.state, tag, deps)) ?? restarted.state, deps);
      return scanId;
    }
    await sendOutstanding(restarted.state, deps);
    return scanId;
  } else {
    const created = await createScan(deps.tables, state);
    if (!created.created) {
      // another resolve (the same image under another tag) created it first: add our tag to it
      await sendOutstanding((await rememberTag(created.state, tag, deps)) ?? created.state, deps);
      return scanId;
    }
  }
  await sendOutstanding(state, deps);
  return scanId;
}

/** Adds a tag to a platform scan (and to its images row once scanned); the state after, if changed. */
async function rememberTag(
  scan: ScanState,
  tag: string | undefined,
  deps: PipelineDeps,
): Promise<ScanState | undefined> {
  if (!tag || scan.tags.includes(tag)) return undefined;
  const updated = await updateScan(
    deps.tables,
    scan.scanId,
    (s) => (s.tags.includes(tag) ? undefined : { ...s, tags: [...s.tags, tag] }),
    deps.now,
  );
  if (updated?.state.status === "done") await addImageTag(deps.tables, updated.state, tag);
  return updated?.state;
}

/** Messages a platform scan still waits on; safe to send again (deterministic ids, idempotent handlers). */
async function sendOutstanding(state: ScanState, deps: PipelineDeps): Promise<void> {
  if (state.status === "analyzing") {
    const total = state.layers.length;
    const messages = state.pending.map((digest) => {
      const index = state.layers.findIndex((l) => l.digest === digest);
      const body: LayerAnalysisMessage = {
        type: "layer-analysis",
        v: 1,
        scanId: state.scanId,
        image: identityOf(state),
        layer: state.layers[index]!,
        index,
        total,
      };
      return { body, messageId: messageId("layer-analysis", state.scanId, attemptPart(state, digest)) };
    });
    if (messages.length > 0) await deps.bus.sendBatch("layer-analysis", messages);
  }
  if (state.status === "matching" && state.joinedBy === "resolve") await sendMatching(deps.bus, state);
}
