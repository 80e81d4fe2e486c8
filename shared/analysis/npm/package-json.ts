import { type NpmPackage, npmPackage } from "./npm-record.js";

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
