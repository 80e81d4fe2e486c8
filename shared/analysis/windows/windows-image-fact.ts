import { z } from "zod";
import type { LayerData } from "../analyzer.js";
import { overlaySnapshots, type RegistrySnapshot } from "./registry-snapshot.js";
import { WindowsLayerDataSchema } from "./windows-layer-data.js";
import { windowsFactsFromSnapshot, WindowsFactsSchema } from "./windows-facts.js";

/** The image's Windows facts after overlaying every hive delta, with the layers that last wrote them. */
export const WindowsImageFactSchema = WindowsFactsSchema.extend({
  /** the topmost layer whose hive delta wrote the OS build (CurrentBuildNumber / UBR) */
  osLayer: z.string().optional(),
  /** the topmost layer with a hive delta at all */
  hiveLayer: z.string(),
  /** "\\"-joined key path (upper case) → the topmost layer whose delta wrote that key */
  keyLayers: z.record(z.string(), z.string()),
  hivePath: z.string(),
});
export type WindowsImageFact = z.infer<typeof WindowsImageFactSchema>;

const CURRENT_VERSION = "MICROSOFT\\WINDOWS NT\\CURRENTVERSION";
const BUILD_VALUES = new Set(["CURRENTBUILDNUMBER", "CURRENTBUILD", "UBR"]);

/**
 * The squash hook of the SOFTWARE hive analyzer. Every layer's Software_Delta applies, replaced or
 * not (a delta is a change set, not a file that later layers supersede), base layer first.
 */
export function squashWindowsFacts(layers: readonly LayerData[]): WindowsImageFact | undefined {
  const deltas: { layer: string; path: string; software: RegistrySnapshot }[] = [];
  for (const entry of layers) {
    const parsed = WindowsLayerDataSchema.safeParse(entry.data);
    if (parsed.success) deltas.push({ layer: entry.layer, path: entry.path, software: parsed.data.software });
  }
  const top = deltas.at(-1);
  if (top === undefined) return undefined;
  const keyLayers: Record<string, string> = {};
  let osLayer: string | undefined;
  for (const { layer, software } of deltas) {
    if (writesBuild(software)) osLayer = layer;
    for (const [key, values] of Object.entries(software)) {
      // a key listed with no values was only walked through, not written by this layer
      if (Object.keys(values).length > 0) keyLayers[key.toUpperCase()] = layer;
    }
  }
  const facts = windowsFactsFromSnapshot(overlaySnapshots(deltas.map((d) => d.software)));
  return {
    ...facts,
    ...(osLayer ? { osLayer } : {}),
    hiveLayer: top.layer,
    keyLayers,
    hivePath: top.path,
  };
}

/** Whether a delta writes the OS build (other CurrentVersion values change without an OS update). */
function writesBuild(software: RegistrySnapshot): boolean {
  const values = Object.entries(software).find(([key]) => key.toUpperCase() === CURRENT_VERSION)?.[1];
  return Object.keys(values ?? {}).some((name) => BUILD_VALUES.has(name.toUpperCase()));
}

/** The layer that last wrote an Uninstall key (either view), else the topmost hive layer. */
export function programLayer(fact: WindowsImageFact, key: string): string {
  const suffix = `\\UNINSTALL\\${key.toUpperCase()}`;
  let found: string | undefined;
  for (const [path, layer] of Object.entries(fact.keyLayers)) if (path.endsWith(suffix)) found = layer;
  return found ?? fact.hiveLayer;
}
