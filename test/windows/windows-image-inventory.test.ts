import { describe, expect, it } from "vitest";
import type { InventoryContext, LayerData } from "../../shared/analysis/analyzer.js";
import {
  softwareHiveAnalyzer,
  squashWindowsFacts,
  windowsImageInventory,
} from "../../shared/analysis/windows/index.js";
import { buildHiveWithHivex } from "./support/hivexregedit.js";
import { currentVersionKeys, uninstallKey } from "./support/windows-image.js";

const delta = (layer: string, keys: Parameters<typeof buildHiveWithHivex>[1]): LayerData => ({
  layer,
  path: "Hives/Software_Delta",
  data: softwareHiveAnalyzer.analyze({
    path: "Hives/Software_Delta",
    content: buildHiveWithHivex("ROOT", keys).hive,
  }).data,
  survives: false,
});
const core = (ubr: number) =>
  currentVersionKeys({
    build: 20348,
    ubr,
    installationType: "Server Core",
    productName: "Windows Server 2022",
  });
const windows = (osVersion?: string, skippedLayers: InventoryContext["skippedLayers"] = []) => ({
  os: "windows",
  ...(osVersion ? { osVersion } : {}),
  skippedLayers,
});

describe("Windows image inventory from overlaid hive deltas", () => {
  const layers = [
    delta("sha256:base", core(2340)),
    delta("sha256:update", core(3207)),
    delta("sha256:app", [uninstallKey("{A}", "Contoso Agent", "2.1.0", "Contoso")]),
  ];

  it("overlays every delta, replaced or not, and attributes the OS to the layer that last wrote its build", () => {
    const out = windowsImageInventory(squashWindowsFacts(layers), windows("10.0.20348.3207"));
    expect(out.os).toEqual({
      family: "windows",
      version: "10.0.20348.3207",
      name: "Windows Server 2022 (Server Core installation)",
    });
    expect(out.packages.map((p) => [p.kind, p.name, p.layer])).toEqual([
      ["windows-os", "Windows Server 2022 (Server Core installation)", "sha256:update"],
      ["windows-program", "Contoso Agent", "sha256:app"],
    ]);
    expect(out.warnings).toEqual([]);
  });

  it("warns and keeps the hive's build when the config's os.version disagrees", () => {
    const out = windowsImageInventory(squashWindowsFacts(layers), windows("10.0.20348.2340"));
    expect(out.os?.version).toBe("10.0.20348.3207");
    expect(out.warnings.map((w) => w.code)).toEqual(["windows-os-version-mismatch"]);
  });

  it("without a hive, takes the product from a foreign servercore base layer's URL and the build from os.version", () => {
    const out = windowsImageInventory(
      undefined,
      windows("10.0.20348.2340", [
        {
          digest: "sha256:foreign",
          mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
          urls: ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:foreign"],
        },
      ]),
    );
    expect(out.packages).toMatchObject([
      {
        name: "Windows Server 2022 (Server Core installation)",
        version: "10.0.20348.2340",
        layer: "sha256:foreign",
      },
    ]);
    expect(out.warnings.map((w) => w.code)).toEqual(["windows-os-from-config"]);
  });

  it("without a hive or a telling URL, names the OS build but no product to match", () => {
    const out = windowsImageInventory(undefined, windows("10.0.20348.2340"));
    expect(out.os).toEqual({ family: "windows", version: "10.0.20348.2340" });
    expect(out.packages).toEqual([]);
    expect(out.warnings.map((w) => w.code)).toEqual(["windows-product-unknown"]);
  });

  it("leaves Linux images alone", () => {
    expect(windowsImageInventory(undefined, { os: "linux", skippedLayers: [] })).toEqual({
      packages: [],
      warnings: [],
    });
  });
});
