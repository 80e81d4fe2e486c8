import { type NpmPackage, npmPackage, type ProjectManifest } from "./npm-record.js";

/** An installed manifest: its package (or why it names none) and the names it depends on. */
export interface InstalledManifest {
  package: NpmPackage | string;
  /** dependencies, optionalDependencies and peerDependencies: names only, as resolution needs */
  deps: string[];
}

/** What an installed `node_modules/<name>/package.json` describes, or why it describes nothing. */
export function readInstalledPackageJson(content: Buffer): InstalledManifest | string {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "not a JSON object";
  const m = json as Record<string, unknown>;
  const { name, version } = m;
  // the manifest's own name, not the folder's: an alias installs `bar` under node_modules/foo
  const pkg =
    npmPackage(name, version) ?? `no registry name and version (${String(name)}@${String(version)})`;
  return { package: pkg, deps: names(m.dependencies, m.optionalDependencies, m.peerDependencies) };
}

// far beyond any real manifest's dependency list
const MAX_DEPENDENCIES = 10_000;
const MAX_WORKSPACES = 1_000;

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
  const globs = Array.isArray(m.workspaces)
    ? m.workspaces
    : (m.workspaces as { packages?: unknown } | undefined)?.packages;
  const workspaces = Array.isArray(globs)
    ? globs.filter((g): g is string => typeof g === "string" && g.length <= 1024).slice(0, MAX_WORKSPACES)
    : [];
  return {
    dependencies: ranges(m.peerDependencies, m.optionalDependencies, m.dependencies),
    devDependencies: ranges(m.devDependencies),
    ...(workspaces.length > 0 ? { workspaces } : {}),
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

function names(...fields: unknown[]): string[] {
  const out = new Set<string>();
  for (const field of fields) {
    if (typeof field !== "object" || field === null || Array.isArray(field)) continue;
    for (const name of Object.keys(field)) {
      // npm refuses longer names; past the cap a manifest is no real one
      if (name.length <= 214 && out.size < MAX_DEPENDENCIES) out.add(name);
    }
  }
  return [...out];
}
