/** Where an MSRC product's fixes land in the DB: OSV coordinates and the version a range starts at. */
export interface ProductTarget {
  ecosystem: string;
  name: string;
  /** first version of the affected line ("0" for Windows builds, "8.0.0" for .NET 8.0) */
  introduced: string;
  /** normalise MSRC's FixedBuild for this product ("20348.2340" → "10.0.20348.2340") */
  fixed(fixedBuild: string): string | undefined;
}

// the runtime-pack names our .NET analyzer emits and GHSA advisories use, for every Windows architecture
const RUNTIME_ARCHES = ["x64", "x86", "arm64"];

/**
 * The .NET product names MSRC has used: `.NET Core 3.1` (to 2022), `.NET 8.0` (2020–2024, every OS),
 * `.NET 8.0 installed on Windows` / `… on Linux` / `… on Mac OS` (2025 on, one product per OS).
 * Only a product that covers Windows reaches the Windows runtime packs the image inventory names.
 */
const DOTNET = /^\.NET (?:Core )?(\d+\.\d+)(?: installed on (Windows|Linux|Mac OS|macOS))?$/;
const ASPNET = /^ASP\.NET Core (\d+\.\d+)(?: installed on (Windows|Linux|Mac OS|macOS))?$/;

/**
 * MSRC product name → DB targets. Windows products stay keyed by their MSRC name (the OS package
 * carries it); .NET and ASP.NET Core runtimes become the NuGet runtime packs for Windows; others,
 * and runtimes installed on another OS, are skipped.
 */
export function productTargets(product: string): ProductTarget[] {
  if (/^Windows (Server|1\d)\b/.test(product)) {
    return [{ ecosystem: "Windows", name: product, introduced: "0", fixed: windowsBuild }];
  }
  const dotnet = DOTNET.exec(product);
  if (dotnet)
    return dotnet[2] === undefined || dotnet[2] === "Windows"
      ? runtimePacks("Microsoft.NETCore.App", dotnet[1]!)
      : [];
  const aspnet = ASPNET.exec(product);
  if (aspnet)
    return aspnet[2] === undefined || aspnet[2] === "Windows"
      ? runtimePacks("Microsoft.AspNetCore.App", aspnet[1]!)
      : [];
  const pwsh = /^PowerShell (\d+\.\d+)$/.exec(product);
  if (pwsh)
    return [{ ecosystem: "Windows", name: product, introduced: `${pwsh[1]}.0`, fixed: dottedVersion }];
  return [];
}

/** A runtime product MSRC rates for another OS only (`.NET 8.0 installed on Linux`): never a Windows image's. */
export const isOtherOsRuntime = (product: string): boolean => {
  const os = (DOTNET.exec(product) ?? ASPNET.exec(product))?.[2];
  return os !== undefined && os !== "Windows";
};

function runtimePacks(framework: string, line: string): ProductTarget[] {
  return RUNTIME_ARCHES.map((arch) => ({
    ecosystem: "NuGet",
    name: `${framework}.Runtime.win-${arch}`,
    introduced: `${line}.0`,
    fixed: dottedVersion,
  }));
}

function windowsBuild(fixedBuild: string): string | undefined {
  const b = fixedBuild.trim();
  if (/^10\.0\.\d+\.\d+$/.test(b)) return b;
  if (/^\d{5}\.\d+$/.test(b)) return `10.0.${b}`;
  return undefined;
}

function dottedVersion(fixedBuild: string): string | undefined {
  const v = fixedBuild.trim();
  return /^\d+\.\d+\.\d+$/.test(v) ? v : undefined;
}
