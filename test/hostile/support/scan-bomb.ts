// Run in a child process (tsx): analyses one bomb and prints the outcome with the peak RSS, so the
// test measures this scan's memory alone.
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { ANALYZERS } from "../../../shared/analysis/registry.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { refFor, streamOf } from "../../analysis/layers.js";
import { gzipBomb, zstdRleBomb, zstdWindowBomb } from "./bombs.js";

const [kind = "", gib = "4", maxLayerMiB = "64"] = process.argv.slice(2);
const bytes = Number(gib) * 1024 ** 3;
const bomb =
  kind === "gzip" ? gzipBomb(bytes) : kind === "zstd-window" ? zstdWindowBomb() : zstdRleBomb(bytes);
const before = process.resourceUsage().maxRSS;
let outcome: { code?: string; message: string };
try {
  await analyzeLayer(streamOf(bomb), refFor(bomb), {
    analyzers: ANALYZERS,
    limits: { ...DEFAULT_LIMITS, maxLayerBytes: Number(maxLayerMiB) * 1024 ** 2 },
  });
  outcome = { message: "analysed without error" };
} catch (err) {
  outcome = { code: (err as { code?: string }).code, message: (err as Error).message };
}
const { maxRSS } = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ ...outcome, compressedBytes: bomb.length, rssBeforeKiB: before, peakRssKiB: maxRSS })}\n`,
);
