import type { Analyzer } from "../analyzer.js";
import { dotnetRuntimeAnalyzer } from "./dotnet-runtime-analyzer.js";
import { powershellAnalyzer } from "./powershell-analyzer.js";
import { softwareHiveAnalyzer } from "./software-hive-analyzer.js";

export { overlayWindowsFacts } from "./overlay-windows-facts.js";
export { WindowsLayerDataSchema, type WindowsLayerData } from "./software-hive-analyzer.js";
export { type WindowsFacts, WindowsFactsSchema } from "./windows-facts.js";
export { squashWindowsFacts, type WindowsImageFact, WindowsImageFactSchema } from "./windows-image-fact.js";
export { windowsImageInventory } from "./windows-image-inventory.js";
export { type WindowsInventory, windowsInventory } from "./windows-inventory.js";
export { windowsProductName } from "./windows-product.js";
export { dotnetRuntimeAnalyzer, powershellAnalyzer, softwareHiveAnalyzer };

/** The Windows analyzers, for the registry list. */
export const windowsAnalyzers: readonly Analyzer[] = [
  softwareHiveAnalyzer,
  dotnetRuntimeAnalyzer,
  powershellAnalyzer,
];
