import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { type NugetRead, readDepsJson, readNuspec, readPackagesLock } from "./nuget-files.js";
import { excerpt } from "../excerpt.js";

// Chocolatey keeps its own packages' nuspecs under lib/: those are applications, not NuGet libraries
const CHOCOLATEY = /(?:^|\/)chocolatey\//i;
// the shared runtimes' own deps.json files are the runtime packs the windows/ analyzers already report
const RUNTIME = /(?:^|\/)dotnet\/shared\//i;

/** `pkg:nuget/<Id>@<version>`, in the `NuGet` ecosystem. */
export const identifyNugetPackage = languageIdentity({ type: "nuget", ecosystem: "NuGet" });

/**
 * NuGet packages of .NET applications on Linux and Windows images: `*.deps.json` beside the app,
 * `packages.lock.json`, and `.nuspec` files in a packages folder.
 */
export const nugetAnalyzer: Analyzer = {
  name: "nuget",
  version: 1,
  maxFileSize: 32 * 1024 * 1024,
  extensions: ["json", "nuspec"],
  required(path) {
    // every name it takes ends in "n" (json) or "c" (nuspec): no lower-cased copy of every other path
    const last = path.charCodeAt(path.length - 1) | 0x20;
    if (last !== 0x6e && last !== 0x63) return false;
    const lower = path.toLowerCase();
    if (lower.endsWith(".deps.json")) return !RUNTIME.test(path);
    if (lower.endsWith("/packages.lock.json") || lower === "packages.lock.json") return true;
    return lower.endsWith(".nuspec") && !CHOCOLATEY.test(path);
  },
  analyze({ path, content }): AnalyzerOutput {
    const text = content.toString("utf8");
    const lower = path.toLowerCase();
    const read: NugetRead = lower.endsWith(".deps.json")
      ? readDepsJson(text)
      : lower.endsWith(".nuspec")
        ? readNuspec(text)
        : readPackagesLock(text);
    return {
      packages: read.packages.map(
        (p): PackageRecord => ({ kind: "nuget", name: p.name, version: p.version, ecosystem: "NuGet" }),
      ),
      warnings: read.problems.map((p) => ({
        code: "nuget-file-unreadable",
        message: `${path}: ${excerpt(p)}`,
        path,
      })),
    };
  },
  identify: identifyNugetPackage,
};
