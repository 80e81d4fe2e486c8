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
 * MSRC product name → DB targets. Windows products stay keyed by their MSRC name (the OS package
 * carries it); ".NET 8.0" / "ASP.NET Core 8.0" become the NuGet runtime packs; others are skipped.
 */
export function productTargets(product: string): ProductTarget[] {
  if (/^Windows (Server|1\d)\b/.test(product)) {
    return [{ ecosystem: "Windows", name: product, introduced: "0", fixed: windowsBuild }];
  }
  const dotnet = /^\.NET (\d+\.\d+)$/.exec(product) ?? /^\.NET Core (\d+\.\d+)$/.exec(product);
  if (dotnet) return runtimePacks("Microsoft.NETCore.App", dotnet[1]!);
  const aspnet = /^ASP\.NET Core (\d+\.\d+)$/.exec(product);
  if (aspnet) return runtimePacks("Microsoft.AspNetCore.App", aspnet[1]!);
  const pwsh = /^PowerShell (\d+\.\d+)$/.exec(product);
  if (pwsh)
    return [{ ecosystem: "Windows", name: product, introduced: `${pwsh[1]}.0`, fixed: dottedVersion }];
  return [];
}

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
