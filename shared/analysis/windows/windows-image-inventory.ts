import type { ImageInventoryOutput, ImagePackageRecord, InventoryContext } from "../analyzer.js";
import type { WindowsFacts } from "./windows-facts.js";
import { programLayer, WindowsImageFactSchema } from "./windows-image-fact.js";
import { windowsInventory } from "./windows-inventory.js";
import { type InstallationType, windowsProductName } from "./windows-product.js";

const NO_FACTS: WindowsFacts = { updates: [], powershell: [], programs: [] };

/**
 * The inventory hook of the SOFTWARE hive analyzer: image.os, the OS package (named by its MSRC
 * product) and the programs, from the overlaid hive deltas — or, when no analysed layer carries a
 * hive (the foreign base layer was skipped), from the config's os.version and the base layer's URL.
 */
export function windowsImageInventory(fact: unknown, context: InventoryContext): ImageInventoryOutput {
  const parsed = WindowsImageFactSchema.safeParse(fact);
  if (!parsed.success) return configOnlyInventory(context);
  const image = parsed.data;
  const inventory = windowsInventory(image, context.osVersion);
  const hivePaths = [image.hivePath];
  const packages = inventory.packages.map((record): ImagePackageRecord => {
    const layer =
      record.kind === "windows-os"
        ? (image.osLayer ?? image.hiveLayer)
        : record.kind === "windows-program"
          ? programLayer(image, image.programs.find((p) => p.name === record.name)?.key ?? "")
          : image.hiveLayer;
    return { ...record, layer, paths: hivePaths };
  });
  return { ...(inventory.os ? { os: inventory.os } : {}), packages, warnings: inventory.warnings };
}

/** A Windows image without a readable hive: the config's os.version is all there is to go on. */
function configOnlyInventory(context: InventoryContext): ImageInventoryOutput {
  if (context.os !== "windows" || context.osVersion === undefined) return { packages: [], warnings: [] };
  const build = /^10\.0\.(\d+)\.(\d+)$/.exec(context.osVersion);
  const base = context.skippedLayers[0];
  const installationType = base === undefined ? undefined : installationFromUrls(base.urls ?? []);
  if (build === null || installationType === undefined || base === undefined) {
    const { os, warnings } = windowsInventory(NO_FACTS, context.osVersion);
    return { ...(os ? { os } : {}), packages: [], warnings };
  }
  const product = windowsProductName(Number(build[1]), installationType);
  return {
    os: { family: "windows", version: context.osVersion, name: product },
    packages: [
      {
        kind: "windows-os",
        name: product,
        version: context.osVersion,
        ecosystem: "Windows",
        layer: base.digest,
        paths: [],
      },
    ],
    warnings: [
      {
        code: "windows-os-from-config",
        message: `no analysed layer carries a SOFTWARE hive; OS build from the image config's os.version ${context.osVersion}, product (${product}) from the foreign base layer's URL`,
      },
    ],
  };
}

// foreign Windows base layers point at mcr.microsoft.com/v2/windows/<image>/blobs/…: the repository names the installation type
const MCR_REPOSITORY = /\/v2\/windows\/(servercore|nanoserver|server)\/blobs\//i;

function installationFromUrls(urls: readonly string[]): InstallationType | undefined {
  for (const url of urls) {
    const repo = MCR_REPOSITORY.exec(url)?.[1]?.toLowerCase();
    if (repo === "servercore") return "Server Core";
    if (repo === "nanoserver") return "Nano Server";
    if (repo === "server") return "Server";
  }
  return undefined;
}
