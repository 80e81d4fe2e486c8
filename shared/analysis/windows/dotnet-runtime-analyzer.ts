import type { Analyzer } from "../analyzer.js";

// Files/Program Files[ (x86)]/dotnet/shared/<framework>/<version>/<framework>.deps.json: one per installed runtime
const RUNTIME_DEPS =
  /^Files\/Program Files( \(x86\))?\/dotnet\/shared\/(Microsoft\.NETCore\.App|Microsoft\.AspNetCore\.App|Microsoft\.WindowsDesktop\.App)\/(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\/\2\.deps\.json$/i;

const CANONICAL = new Map(
  ["Microsoft.NETCore.App", "Microsoft.AspNetCore.App", "Microsoft.WindowsDesktop.App"].map((n) => [
    n.toUpperCase(),
    n,
  ]),
);

/**
 * .NET runtimes of a Windows image, named as the NuGet runtime packs GHSA/OSV advisories list
 * (`Microsoft.NETCore.App.Runtime.win-x64`); the MSRC ".NET 8.0" products are converted to the same names.
 */
export const dotnetRuntimeAnalyzer: Analyzer = {
  name: "windows-dotnet-runtime",
  version: 1,
  maxFileSize: 4 * 1024 * 1024,
  required: (path) => RUNTIME_DEPS.test(path),
  analyze({ path }) {
    const m = RUNTIME_DEPS.exec(path);
    if (!m) return {};
    const arch = m[1] ? "x86" : "x64";
    const framework = CANONICAL.get(m[2]!.toUpperCase()) ?? m[2]!;
    return {
      packages: [
        {
          kind: "dotnet-runtime",
          name: `${framework}.Runtime.win-${arch}`,
          version: m[3]!,
          ecosystem: "NuGet",
          arch,
        },
      ],
    };
  },
};
