import { createHash } from "node:crypto";
import type { Analyzer } from "./analyzer.js";
import { apkAnalyzer } from "./apk/apk-analyzer.js";
import { contentAnalyzers } from "./content/index.js";
import { dpkgAnalyzer } from "./dpkg/dpkg-analyzer.js";
import { osAnalyzer } from "./os/os-analyzer.js";
import { windowsAnalyzers } from "./windows/index.js";

/** Every analyzer a scan runs, in one explicit list: add a new one here. */
export const ANALYZERS: readonly Analyzer[] = [
  osAnalyzer,
  dpkgAnalyzer,
  apkAnalyzer,
  ...windowsAnalyzers,
  ...contentAnalyzers(process.env.PORTCULLIS_CLAMD),
];

/** Bumped when the layer walk itself changes what a LayerReport holds (whiteouts, links, limits). */
const LAYER_WALK_VERSION = 1;

/**
 * A short, stable name for a set of analyzers and their versions: the layer-cache key's second
 * half, so bumping any one analyzer (or the walk) makes every cached LayerReport miss.
 */
export function analyzerSetVersion(analyzers: readonly Analyzer[]): string {
  const parts = analyzers.map((a) => `${a.name}@${a.version}`).sort();
  const hash = createHash("sha256")
    .update(`walk@${LAYER_WALK_VERSION}\n${parts.join("\n")}`)
    .digest("hex");
  return `as1-${hash.slice(0, 20)}`;
}
