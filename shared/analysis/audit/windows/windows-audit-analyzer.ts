import type { Analyzer, AnalyzerOutput, LayerData } from "../../analyzer.js";
import { openHive, RegfError } from "../../windows/regf/index.js";
import { softwareSettings, systemSettings } from "./hive-settings.js";
import { overlaySam } from "./sam/sam-audit.js";
import { samSettings } from "./sam/sam-settings.js";
import { auditWindows } from "./windows-audit.js";
import type { AuditedHive, AuditedValue, WindowsAuditData, WindowsAuditFact } from "./windows-audit-fact.js";

export type { AuditedHive, AuditedValue, WindowsAuditData, WindowsAuditFact };

// wclayer layers carry the registry as deltas; a full hive under the same name reads the same way
const HIVE = /^Hives\/(System|Software|Sam|Security)(?:_Delta)?$/i;
// a hostile SECURITY hive cannot make the fact grow without bound
const MAX_SECRETS = 1000;

/**
 * The Windows configuration audit over the SYSTEM, SOFTWARE, SAM and SECURITY hive deltas, read with the regf
 * reader in the same pass as the package analyzers; only the audited values are kept (a clear-text
 * DefaultPassword as its length).
 */
export const windowsAuditAnalyzer = {
  name: "audit-windows",
  version: 2,
  maxFileSize: 512 * 1024 * 1024,
  required: (path) => path.startsWith("Hives/") && HIVE.test(path),
  analyze({ path, content }): AnalyzerOutput {
    const hive = /^Hives\/System/i.test(path)
      ? "SYSTEM"
      : /^Hives\/Sam/i.test(path)
        ? "SAM"
        : /^Hives\/Security/i.test(path)
          ? "SECURITY"
          : "SOFTWARE";
    try {
      const opened = openHive(content, { maxValueBytes: 1024 * 1024 });
      if (hive === "SECURITY") {
        // only the names: a secret's value is encrypted with the SYSTEM hive's boot key, which ships beside it
        const names = (opened.subkey(["Policy", "Secrets"])?.subkeys() ?? []).map((k) => k.name);
        const data: WindowsAuditData = { hive, secrets: names.slice(0, MAX_SECRETS) };
        return { data };
      }
      if (hive === "SAM") {
        const sam = samSettings(opened);
        const data: WindowsAuditData = { hive, sam };
        const warnings = sam.problems.map((message) => ({
          code: "sam-record-corrupt",
          message: `${message}; not audited`,
          path,
        }));
        return { data, ...(warnings.length > 0 ? { warnings } : {}) };
      }
      const settings = hive === "SYSTEM" ? systemSettings(opened) : softwareSettings(opened);
      const data: WindowsAuditData = { hive, settings };
      return { data };
    } catch (err) {
      if (!(err instanceof RegfError)) throw err;
      return {
        warnings: [
          { code: "windows-hive-unreadable", message: `${hive} hive: ${err.message}; not audited`, path },
        ],
      };
    }
  },
  squash: squashWindowsAudit,
  audit: (fact: unknown) => ({
    misconfigurations: auditWindows(fact as WindowsAuditFact | undefined),
    warnings: [],
  }),
} satisfies Analyzer;

/** Every layer's delta applies, base first (a delta is a change set): the last write of each value wins. */
function squashWindowsAudit(layers: readonly LayerData[]): WindowsAuditFact {
  const fact: WindowsAuditFact = {};
  for (const { layer, data } of layers) {
    const d = data as WindowsAuditData;
    if (d.hive === "SAM") {
      fact.sam = overlaySam(fact.sam, d.sam, layer);
      continue;
    }
    if (d.hive === "SECURITY") {
      // a delta adds secrets; the first layer that wrote a name is where it lives on
      fact.secrets ??= [];
      for (const name of d.secrets)
        if (!fact.secrets.some((s) => s.name.toUpperCase() === name.toUpperCase()))
          fact.secrets.push({ name, layer });
      continue;
    }
    const { hive, settings } = d;
    fact[hive] ??= {};
    const keys = fact[hive];
    for (const [path, values] of Object.entries(settings)) {
      keys[path.toUpperCase()] ??= { path, values: {} };
      const key = keys[path.toUpperCase()]!;
      for (const [name, value] of Object.entries(values))
        key.values[name.toUpperCase()] = { name, value, layer };
    }
  }
  return fact;
}
