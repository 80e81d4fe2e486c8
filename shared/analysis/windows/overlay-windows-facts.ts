import { overlaySnapshots } from "./registry-snapshot.js";
import { type WindowsLayerData, WindowsLayerDataSchema } from "./windows-layer-data.js";
import { type WindowsFacts, windowsFactsFromSnapshot } from "./windows-facts.js";

/**
 * Overlay the per-layer data of the SOFTWARE hive analyzer (base layer first) into the image's
 * Windows facts. Entries that are not this analyzer's data (undefined, other shapes) are skipped.
 */
export function overlayWindowsFacts(perLayer: readonly unknown[]): WindowsFacts {
  const layers = perLayer.flatMap((d) => {
    const parsed = WindowsLayerDataSchema.safeParse(d);
    return parsed.success ? [parsed.data satisfies WindowsLayerData] : [];
  });
  return windowsFactsFromSnapshot(overlaySnapshots(layers.map((l) => l.software)));
}
