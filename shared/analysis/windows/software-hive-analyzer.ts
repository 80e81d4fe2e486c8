import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import { openHive, RegfError } from "./regf/index.js";
import { captureSnapshot, SOFTWARE_CAPTURES } from "./registry-snapshot.js";
import { squashWindowsFacts } from "./windows-image-fact.js";
import { windowsImageInventory } from "./windows-image-inventory.js";
import type { WindowsLayerData } from "./windows-layer-data.js";

export { type WindowsLayerData, WindowsLayerDataSchema } from "./windows-layer-data.js";

// Windows layers carry the registry as deltas: Hives/Software_Delta (wclayer format)
const SOFTWARE_HIVE = /^Hives\/Software(_Delta)?$/i;

/**
 * Reads a layer's SOFTWARE hive delta and keeps the keys the Windows inventory needs. It reports
 * data only: a delta is not the whole registry, so OS and programs come from the overlay of all layers.
 */
export const softwareHiveAnalyzer = {
  name: "windows-software-hive",
  version: 1,
  maxFileSize: 512 * 1024 * 1024,
  // the deltas of all layers overlay into one image fact, which names the OS and programs
  squash: squashWindowsFacts,
  inventory: windowsImageInventory,
  required: (path) => SOFTWARE_HIVE.test(path),
  analyze({ path, content }): AnalyzerOutput {
    try {
      const hive = openHive(content, { maxValueBytes: 1024 * 1024 });
      const data: WindowsLayerData = { hive: "SOFTWARE", software: captureSnapshot(hive, SOFTWARE_CAPTURES) };
      return { data };
    } catch (err) {
      if (!(err instanceof RegfError)) throw err;
      return { warnings: [{ code: "windows-hive-unreadable", message: err.message, path }] };
    }
  },
} satisfies Analyzer;
