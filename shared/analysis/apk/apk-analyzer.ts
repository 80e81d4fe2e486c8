import { PackageURL } from "packageurl-js";
import type { OsInfo } from "../../model/inventory.js";
import type {
  Analyzer,
  AnalyzerOutput,
  AnalyzerWarning,
  PackageIdentity,
  PackageRecord,
} from "../analyzer.js";
import { distributionEcosystem, distributionOf } from "../os/osv-ecosystem.js";

// apk-tools 3 moved the database under /usr; both are read, squash de-duplicates
const PATHS = new Set(["lib/apk/db/installed", "usr/lib/apk/db/installed"]);

/** Reads apk's installed database: one `X:value` line per field, a blank line between packages. */
export const apkAnalyzer: Analyzer = {
  name: "apk",
  version: 1,
  maxFileSize: 64 * 1024 * 1024,
  required: (path) => PATHS.has(path),
  analyze({ path, content }): AnalyzerOutput {
    return parseApkInstalled(content.toString("utf8"), path);
  },
  identify: identifyApkPackage,
};

interface Draft {
  line: number;
  name?: string;
  version?: string;
  origin?: string;
  arch?: string;
  stray: number;
}

export function parseApkInstalled(
  text: string,
  path: string,
): { packages: PackageRecord[]; warnings: AnalyzerWarning[] } {
  const packages: PackageRecord[] = [];
  const warnings: AnalyzerWarning[] = [];
  let draft: Draft | undefined;
  const flush = () => {
    if (!draft) return;
    const d = draft;
    draft = undefined;
    if (d.name && d.version) {
      // apk's origin is the source (aports) package; its version is the binary's
      const source = { name: d.origin || d.name, version: d.version };
      packages.push({
        kind: "apk",
        name: d.name,
        version: d.version,
        source,
        ...(d.arch ? { arch: d.arch } : {}),
      });
    } else if (d.name || d.version || d.stray > 0) {
      const what = d.name ? `package ${d.name} has no V: line` : "entry has no P: line";
      warnings.push({ code: "apk-entry-invalid", message: `${path}:${d.line}: ${what}`, path });
    }
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      flush();
      continue;
    }
    draft ??= { line: i + 1, stray: 0 };
    if (line[1] !== ":") {
      draft.stray++;
      continue;
    }
    const value = line.slice(2);
    switch (line[0]) {
      case "P":
        draft.name = value;
        break;
      case "V":
        draft.version = value;
        break;
      case "o":
        draft.origin = value;
        break;
      case "A":
        draft.arch = value;
        break;
    }
  }
  flush();
  return { packages, warnings };
}

/** Alpine → "Alpine:v3.20", Wolfi → "Wolfi", Chainguard → "Chainguard"; `pkg:apk/<distro>/…?arch=…&distro=3.20.3`. */
export function identifyApkPackage(record: PackageRecord, os: OsInfo | undefined): PackageIdentity {
  const distribution = distributionOf(os)?.format === "apk" ? distributionOf(os) : undefined;
  const ecosystem = (distribution && distributionEcosystem(os)) ?? "Alpine";
  const namespace = distribution?.ids[0] ?? "alpine";
  const qualifiers: Record<string, string> = {};
  if (record.arch) qualifiers.arch = record.arch;
  if (os?.version) qualifiers.distro = os.version;
  const purl = new PackageURL(
    "apk",
    namespace,
    record.name,
    record.version,
    qualifiers,
    undefined,
  ).toString();
  return { ecosystem, purl };
}
