import { z } from "zod";
import type { Analyzer } from "../analyzer.js";

// PowerShell 7 installs to Files/Program Files/PowerShell/<major>/; pwsh.deps.json names the exact version
const PWSH_DEPS = /^Files\/Program Files\/PowerShell\/\d+(?:-preview)?\/pwsh\.deps\.json$/i;

const DepsSchema = z.object({ libraries: z.record(z.string(), z.unknown()) });

/** PowerShell 7 as an MSRC product ("PowerShell 7.4"), versioned by its full release (7.4.1). */
export const powershellAnalyzer: Analyzer = {
  name: "windows-powershell",
  version: 1,
  maxFileSize: 4 * 1024 * 1024,
  required: (path) => PWSH_DEPS.test(path),
  analyze({ path, content }) {
    let deps: z.infer<typeof DepsSchema>;
    try {
      deps = DepsSchema.parse(JSON.parse(content.toString("utf8")));
    } catch {
      return {
        warnings: [{ code: "powershell-deps-unreadable", message: "pwsh.deps.json is not valid JSON", path }],
      };
    }
    const version = Object.keys(deps.libraries)
      .map((k) => /^pwsh\/(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(k)?.[1])
      .find((v) => v !== undefined);
    if (version === undefined) return {};
    const [major, minor] = version.split(".");
    return {
      packages: [{ kind: "powershell", name: `PowerShell ${major}.${minor}`, version, ecosystem: "Windows" }],
    };
  },
};
