// Windows layers for the audit tests: SYSTEM and SOFTWARE hive deltas built with hivexregedit.
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { auditImage } from "../../../shared/analysis/audit/index.js";
import type { LayerReport } from "../../../shared/analysis/layer-report.js";
import { ANALYZERS } from "../../../shared/analysis/registry.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import type { MisconfigurationMatch } from "../../../shared/model/report.js";
import { refFor, streamOf } from "../../analysis/layers.js";
import { buildHiveWithHivex } from "../../windows/support/hivexregedit.js";
import type { RegKey } from "../../windows/support/reg-file.js";
import { layerBlob } from "../../windows/support/windows-image.js";

export interface HiveLayer {
  system?: RegKey[];
  software?: RegKey[];
  security?: RegKey[];
  /** raw files (a corrupt hive, a SAM) */
  files?: Record<string, Buffer>;
}

export interface AuditedWindowsImage {
  reports: LayerReport[];
  misconfigurations: MisconfigurationMatch[];
  facts: Record<string, unknown>;
}

/** The layers streamed through the real layer walk with every analyzer, squashed and audited. */
export async function auditWindowsLayers(layers: HiveLayer[]): Promise<AuditedWindowsImage> {
  const reports: LayerReport[] = [];
  for (const layer of layers) {
    const entries: [string, Buffer][] = [["Files/Windows/System32/placeholder.txt", Buffer.from("x")]];
    if (layer.system) entries.push(["Hives/System_Delta", buildHiveWithHivex("ROOT", layer.system).hive]);
    if (layer.software)
      entries.push(["Hives/Software_Delta", buildHiveWithHivex("ROOT", layer.software).hive]);
    if (layer.security)
      entries.push(["Hives/Security_Delta", buildHiveWithHivex("ROOT", layer.security).hive]);
    for (const [name, content] of Object.entries(layer.files ?? {})) entries.push([name, content]);
    const { gz } = await layerBlob(entries);
    reports.push(
      await analyzeLayer(streamOf(gz), refFor(gz), { analyzers: ANALYZERS, limits: DEFAULT_LIMITS }),
    );
  }
  const context = { os: "windows", skippedLayers: [] };
  const { facts } = squashLayers(reports, { analyzers: ANALYZERS, context });
  const config = {
    os: "windows",
    config: { User: "ContainerUser", Healthcheck: { Test: ["CMD", "exit 0"] } },
  };
  return {
    reports,
    facts,
    misconfigurations: auditImage(ANALYZERS, facts, config, context).misconfigurations,
  };
}
