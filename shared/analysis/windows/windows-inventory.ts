import type { OsInfo, ScanWarning } from "../../model/inventory.js";
import type { PackageRecord } from "../analyzer.js";
import type { WindowsFacts } from "./windows-facts.js";

/** OSV has no such ecosystem: programs and .NET Framework are inventory only, never matched by name. */
export const WINDOWS_PROGRAM_ECOSYSTEM = "windows-program";

export interface WindowsInventory {
  os?: OsInfo;
  packages: PackageRecord[];
  warnings: Omit<ScanWarning, "layer">[];
}

/**
 * The image-level Windows inventory from overlaid facts: the OS as a `Windows` package named by its
 * MSRC product (what MSRC advisories are keyed by), plus programs. `configOsVersion` is the image
 * config's os.version — the fallback when no hive names the build, and a cross-check otherwise.
 */
export function windowsInventory(facts: WindowsFacts, configOsVersion?: string): WindowsInventory {
  const warnings: WindowsInventory["warnings"] = [];
  const packages: PackageRecord[] = [];
  const os = facts.os;
  if (os !== undefined && configOsVersion !== undefined && configOsVersion !== os.version) {
    warnings.push({
      code: "windows-os-version-mismatch",
      message: `registry says OS build ${os.version} but the image config says os.version ${configOsVersion}; using the registry`,
    });
  }
  let osInfo: OsInfo | undefined;
  if (os !== undefined) {
    osInfo = { family: "windows", version: os.version, name: os.product };
    packages.push({ kind: "windows-os", name: os.product, version: os.version, ecosystem: "Windows" });
    if (/Nano Server/.test(os.product))
      // MSRC lists no Nano Server product: no OS finding can ever match, and silence would read as clean
      warnings.push({
        code: "windows-nano-server-unmatched",
        message: `MSRC publishes no advisories for ${os.product}: its OS build ${os.version} is inventoried but not matched; keep it on the latest mcr.microsoft.com/windows/nanoserver base`,
      });
  } else if (configOsVersion !== undefined) {
    osInfo = { family: "windows", version: configOsVersion };
    warnings.push({
      code: "windows-product-unknown",
      message: `no SOFTWARE hive names the Windows product; os.version ${configOsVersion} alone cannot be matched to an MSRC product`,
    });
  }
  for (const p of facts.programs) {
    packages.push({
      kind: "windows-program",
      name: p.name,
      version: p.version,
      ecosystem: WINDOWS_PROGRAM_ECOSYSTEM,
    });
  }
  if (facts.netFramework) {
    const { version, versionString } = facts.netFramework;
    packages.push({
      kind: "dotnet-framework",
      name: ".NET Framework",
      version: versionString ?? version,
      ecosystem: WINDOWS_PROGRAM_ECOSYSTEM,
    });
  }
  if (facts.iis)
    packages.push({
      kind: "iis",
      name: "IIS",
      version: facts.iis.version,
      ecosystem: WINDOWS_PROGRAM_ECOSYSTEM,
    });
  return { os: osInfo, packages, warnings };
}
