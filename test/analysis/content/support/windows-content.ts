import { analyzeLayer } from "../../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../../shared/analysis/content/index.js";
import { squashLayers } from "../../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../../shared/model/limits.js";
import { layerBlob } from "../../../windows/support/windows-image.js";
import { refFor, streamOf } from "../../layers.js";

/**
 * Windows layers (each a list of `Files/…`/`Hives/…` entries, over a placeholder System32 file) through
 * the real layer walk with the content engine, squashed: the image's content fact and the layer reports.
 */
export async function contentOfLayers(layers: [string, Buffer][][]) {
  const analyzers = contentAnalyzers(undefined);
  const reports = [];
  for (const entries of layers) {
    const { gz } = await layerBlob([
      ["Files/Windows/System32/placeholder.txt", Buffer.from("x")],
      ...entries,
    ]);
    reports.push(await analyzeLayer(streamOf(gz), refFor(gz), { analyzers, limits: DEFAULT_LIMITS }));
  }
  const squashed = squashLayers(reports, { analyzers });
  return { fact: ContentFactSchema.parse(squashed.facts.content), reports };
}
