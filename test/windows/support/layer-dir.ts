import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Analyzer, AnalyzerOutput } from "../../../shared/analysis/analyzer.js";

/** Run analyzers over an unpacked layer directory the way the layer walk does: by relative path. */
export async function analyzeLayerDir(
  dir: string,
  analyzers: readonly Analyzer[],
): Promise<Map<string, AnalyzerOutput[]>> {
  const out = new Map<string, AnalyzerOutput[]>(analyzers.map((a) => [a.name, []]));
  for (const file of listFiles(dir)) {
    const path = relative(dir, file).split(sep).join("/");
    for (const analyzer of analyzers) {
      if (!analyzer.required(path)) continue;
      out.get(analyzer.name)!.push(await analyzer.analyze({ path, content: readFileSync(file) }));
    }
  }
  return out;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
