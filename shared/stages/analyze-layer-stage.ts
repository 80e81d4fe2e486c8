import { analyzeLayerCached } from "../analysis/inventory-image.js";
import type { LayerAnalysisMessage } from "../model/messages.js";
import { formatImageRef } from "./image-ref.js";
import type { PipelineDeps } from "./pipeline-deps.js";
import { sendMatching } from "./resolve-scan.js";
import { readScan, updateScan } from "./scan-state.js";

/**
 * layer-analysis: analyse one layer (or find its report in the layer cache — a redelivery after a
 * crash lands here), then join. The join removes the layer from the scan's pending set under the
 * row's ETag; the handler whose update empties the set records itself as `joinedBy` and is the only
 * one that sends matching — again on its own redelivery, never from anyone else.
 */
export async function analyzeLayerStage(msg: LayerAnalysisMessage, deps: PipelineDeps): Promise<void> {
  const found = await readScan(deps.tables, msg.scanId);
  if (!found) {
    deps.log(`layer-analysis for unknown scan ${msg.scanId}: dropped`);
    return;
  }
  if (found.state.status === "failed") return;
  const digest = msg.layer.digest;
  if (found.state.pending.includes(digest)) {
    const source = await deps.openSource(
      formatImageRef({
        registry: msg.image.registry,
        repository: msg.image.repository,
        digest: msg.image.digest,
      }),
    );
    try {
      await analyzeLayerCached(source, msg.layer, {
        store: deps.blobs,
        ...(deps.analyzers ? { analyzers: deps.analyzers } : {}),
        ...(deps.limits ? { limits: deps.limits } : {}),
      });
    } finally {
      await source.close?.();
    }
  }
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
    await sendMatching(joined.state, deps);
}
