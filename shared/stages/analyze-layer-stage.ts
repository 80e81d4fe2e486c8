import { analyzeAndStoreLayer } from "../analysis/inventory-image.js";
import { loadLayerReport } from "../analysis/layer-cache.js";
import { ANALYZERS, analyzerSetVersion } from "../analysis/registry.js";
import type { LayerAnalysisMessage } from "../model/messages.js";
import { formatImageRef } from "../model/image-reference.js";
import { DEFAULT_LAYER_LEASE, ensureLayerReport, type LayerLeaseOptions } from "./layer-lease.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { readScan, updateScan } from "./scan-state.js";
import { sendMatching } from "./send-matching.js";

/**
 * layer-analysis: analyse one layer (or find its report in the layer cache — a redelivery after a
 * crash lands here), then join. The join removes the layer from the scan's pending set under the
 * row's ETag; the handler whose update empties the set records itself as `joinedBy` and is the only
 * one that sends matching — again on its own redelivery, never from anyone else. The download runs
 * under a per-layer lease, so scans sharing a layer analyse it once (layer-lease.ts).
 */
export async function analyzeLayerStage(
  msg: LayerAnalysisMessage,
  deps: PipelineDeps & { layerLease?: LayerLeaseOptions },
): Promise<void> {
  const found = await readScan(deps.tables, msg.scanId);
  if (!found) {
    deps.log(`layer-analysis for unknown scan ${msg.scanId}: dropped`);
    return;
  }
  if (found.state.status === "failed") return;
  const digest = msg.layer.digest;
  if (found.state.pending.includes(digest)) await ensureLayerAnalysed(msg, deps);
  const joined = await updateScan(
    deps.tables,
    msg.scanId,
    (s) => {
      if (!s.pending.includes(digest) || s.status === "failed") return undefined;
      const pending = s.pending.filter((d) => d !== digest);
      return pending.length > 0 ? { ...s, pending } : { ...s, pending, status: "matching", joinedBy: digest };
    },
    deps.now,
  );
  if (
    joined &&
    joined.state.pending.length === 0 &&
    joined.state.joinedBy === digest &&
    joined.state.status === "matching"
  )
    await sendMatching(deps.bus, joined.state);
}

/** The layer's report in the cache: already there, analysed here under the lease, or awaited from its holder. */
async function ensureLayerAnalysed(
  msg: LayerAnalysisMessage,
  deps: PipelineDeps & { layerLease?: LayerLeaseOptions },
): Promise<void> {
  const analyzers = deps.analyzers ?? ANALYZERS;
  const analyzerSet = analyzerSetVersion(analyzers);
  const digest = msg.layer.digest;
  const outcome = await ensureLayerReport(
    { digest, analyzerSet },
    msg.scanId,
    {
      isStored: async () => (await loadLayerReport(deps.blobs, digest, analyzerSet)) !== undefined,
      analyze: async () => {
        const source = await deps.openSource(
          formatImageRef({
            registry: msg.image.registry,
            repository: msg.image.repository,
            digest: msg.image.digest,
          }),
        );
        try {
          // the lease was taken because the report is not stored: analyse without looking again
          await analyzeAndStoreLayer(source, msg.layer, {
            store: deps.blobs,
            analyzers,
            ...(deps.limits ? { limits: deps.limits } : {}),
          });
        } finally {
          await source.close?.();
        }
      },
    },
    deps,
    deps.layerLease ?? DEFAULT_LAYER_LEASE,
  );
  if (outcome === "joined") deps.log(`scan ${msg.scanId}: layer ${digest} analysed by another scan, joined`);
}
