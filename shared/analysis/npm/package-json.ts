import { type NpmPackage, npmPackage, type ProjectManifest } from "./npm-record.js";

/** The package an installed `node_modules/<name>/package.json` describes, or why it describes none. */
export function readInstalledPackageJson(content: Buffer): NpmPackage | string {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "not a JSON object";
  const { name, version } = json as { name?: unknown; version?: unknown };
  // the manifest's own name, not the folder's: an alias installs `bar` under node_modules/foo
  return npmPackage(name, version) ?? `no registry name and version (${String(name)}@${String(version)})`;
}

// far beyond any real manifest's dependency list
const MAX_DEPENDENCIES = 10_000;

/** A project's package.json: its dependency names and ranges, production and dev apart. */
export function readProjectPackageJson(content: Buffer): ProjectManifest | string {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "not a JSON object";
  const m = json as Record<string, unknown>;
  return {
    dependencies: ranges(m.peerDependencies, m.optionalDependencies, m.dependencies),
    devDependencies: ranges(m.devDependencies),
  };
}

function ranges(...fields: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const field of fields) {
    if (typeof field !== "object" || field === null || Array.isArray(field)) continue;
    for (const [name, range] of Object.entries(field)) {
      if (typeof range !== "string" || ++count > MAX_DEPENDENCIES) continue;
      out[name] = range;
    }
  }
  return out;
}
