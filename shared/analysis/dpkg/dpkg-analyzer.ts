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
import { readStanzas, type Stanza } from "./control-stanzas.js";

const STATUS = "var/lib/dpkg/status";
const STATUS_D = "var/lib/dpkg/status.d/";

/** `Source: util-linux (2.38.1-5)` → name and optional version. */
const SOURCE_FIELD = /^(\S+)(?:\s+\(([^)]+)\))?$/;

/**
 * Reads the dpkg database: `var/lib/dpkg/status` and distroless `status.d/<pkg>` files. Only
 * installed packages count (state `installed` in `Status:`, or no Status in status.d).
 */
export const dpkgAnalyzer: Analyzer = {
  name: "dpkg",
  version: 1,
  maxFileSize: 64 * 1024 * 1024,
  required(path) {
    if (path === STATUS) return true;
    if (!path.startsWith(STATUS_D)) return false;
    const base = path.slice(STATUS_D.length);
    return base !== "" && !base.includes("/") && !base.endsWith(".md5sums");
  },
  analyze({ path, content }): AnalyzerOutput {
    return parseDpkgDatabase(content, { path, statusOptional: path !== STATUS });
  },
  identify: identifyDebPackage,
};

/** The fields a package record is made of; the rest (descriptions, dependencies) are never decoded. */
const KEPT_FIELDS: ReadonlySet<string> = new Set(["package", "version", "status", "source", "architecture"]);

/** Installed packages of one dpkg status-format file, with a warning per stanza that could not be read. */
export function parseDpkgDatabase(
  content: Buffer | string,
  options: { path: string; statusOptional?: boolean },
): { packages: PackageRecord[]; warnings: AnalyzerWarning[] } {
  const packages: PackageRecord[] = [];
  const warnings: AnalyzerWarning[] = [];
  const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  for (const stanza of readStanzas(data, KEPT_FIELDS)) {
    const result = readStanza(stanza, options.statusOptional ?? false);
    if (result === "skip") continue;
    if (typeof result === "string") {
      warnings.push({
        code: "dpkg-stanza-invalid",
        message: `${options.path}:${stanza.line}: ${result}`,
        path: options.path,
      });
      continue;
    }
    packages.push(result);
  }
  return { packages, warnings };
}

function readStanza(stanza: Stanza, statusOptional: boolean): PackageRecord | "skip" | string {
  const f = stanza.fields;
  const name = f.get("package");
  const version = f.get("version");
  // an empty `Package:` stanza with nothing else is a known artefact of some images, not an error
  if (name === "" && f.size + stanza.otherFields === 1) return "skip";
  if (!name) return stanza.malformed > 0 ? "not a dpkg stanza" : "stanza has no Package field";
  if (!isInstalled(f.get("status"), statusOptional)) return "skip";
  if (!version) return `package ${name} has no Version field`;
  const source = parseSource(f.get("source"), name, version);
  const arch = f.get("architecture");
  return { kind: "dpkg", name, version, source, ...(arch ? { arch } : {}) };
}

/**
 * `Status: <want> <flag> <state>`: the files are on disk when the state is "installed", whatever the
 * want ("deinstall reinstreq installed" still ships its binaries), so that is what counts.
 */
function isInstalled(status: string | undefined, statusOptional: boolean): boolean {
  if (status === undefined) return statusOptional;
  return status.split(/\s+/)[2] === "installed";
}

function parseSource(
  field: string | undefined,
  name: string,
  version: string,
): { name: string; version: string } {
  const match = field ? SOURCE_FIELD.exec(field) : null;
  // the source version defaults to the binary version (a binNMU names it explicitly)
  if (!match) return { name, version };
  return { name: match[1]!, version: match[2] ?? version };
}

/** Debian → "Debian:12", Ubuntu → "Ubuntu:22.04:LTS" (osv-ecosystem.ts) and `pkg:deb/debian/…&distro=debian-12.7`. */
export function identifyDebPackage(record: PackageRecord, os: OsInfo | undefined): PackageIdentity {
  const family = os?.family === "ubuntu" ? "ubuntu" : "debian";
  const named =
    distributionOf(os)?.format === "dpkg"
      ? distributionEcosystem(os, record.source?.version ?? record.version)
      : undefined;
  // a derivative OSV does not publish keeps the bare family name; scan-gaps/gap-warnings.ts says it is not matched
  const ecosystem = named ?? (family === "ubuntu" ? "Ubuntu" : "Debian");
  const qualifiers: Record<string, string> = {};
  if (record.arch) qualifiers.arch = record.arch;
  if (os?.version) qualifiers.distro = `${family}-${os.version}`;
  const purl = new PackageURL("deb", family, record.name, record.version, qualifiers, undefined).toString();
  return { ecosystem, purl };
}
