import type { ResolvedImage } from "../model/image.js";
import { ScanError } from "../model/errors.js";
import type { ScanWarning } from "../model/inventory.js";
import type { Inventory } from "../model/report.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Analyzer } from "./analyzer.js";
import { assembleInventory, foreignLayerSkipped, isForeignLayer } from "./inventory-image.js";
import { loadLayerReport } from "./layer-cache.js";
import { ANALYZERS, analyzerSetVersion } from "./registry.js";

/**
 * The inventory of an image whose layers were all analysed before (the pipeline's matching stage):
 * each layer's stored report read once, no blob opened. A report missing from the cache is a
 * transient `layer-report-missing` (it may still be on its way), never a silent gap.
 */
export async function inventoryFromStoredReports(
  image: ResolvedImage,
  options: { store: BlobStore; analyzers?: readonly Analyzer[]; allowForeignLayers?: boolean },
): Promise<Inventory> {
  const analyzers = options.analyzers ?? ANALYZERS;
  const analyzerSet = analyzerSetVersion(analyzers);
  const warnings: ScanWarning[][] = image.layers.map(() => []);
  const reports = await Promise.all(
    image.layers.map(async (layer, index) => {
      if (isForeignLayer(layer) && !options.allowForeignLayers) {
        warnings[index]!.push(foreignLayerSkipped(layer));
        return undefined;
      }
      const report = await loadLayerReport(options.store, layer.digest, analyzerSet);
      if (!report)
        throw new ScanError("layer-report-missing", `layer ${layer.digest} has no stored report`, {
          permanent: false,
        });
      return report;
    }),
  );
  return assembleInventory(image, reports, warnings, analyzers);
}
