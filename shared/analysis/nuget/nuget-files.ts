/** A NuGet package id and version as a file names them. */
export interface NugetPackage {
  name: string;
  version: string;
}

export interface NugetRead {
  packages: NugetPackage[];
  problems: string[];
}

const ID = /^[A-Za-z0-9_][\w.-]{0,199}$/;
const VERSION = /^\d+(?:\.\d+){0,3}(?:-[\w.-]+)?(?:\+[\w.-]+)?$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function nugetPackage(name: unknown, version: unknown): NugetPackage | undefined {
  if (typeof name !== "string" || typeof version !== "string") return undefined;
  return ID.test(name) && VERSION.test(version) ? { name, version } : undefined;
}

function parse(text: string): { json?: unknown; problem?: string } {
  try {
    return { json: JSON.parse(text.replace(/^\uFEFF/, "")) };
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
}

/** `<app>.deps.json`: `libraries` keyed `Name/Version`; only `package` entries came from NuGet. */
export function readDepsJson(text: string): NugetRead {
  const { json, problem } = parse(text);
  if (problem) return { packages: [], problems: [problem] };
  if (!isObject(json) || !isObject(json.libraries))
    return { packages: [], problems: ["no `libraries` object"] };
  const packages: NugetPackage[] = [];
  const problems: string[] = [];
  for (const [key, lib] of Object.entries(json.libraries)) {
    if (!isObject(lib) || lib.type !== "package") continue;
    const slash = key.indexOf("/");
    const pkg = slash > 0 ? nugetPackage(key.slice(0, slash), key.slice(slash + 1)) : undefined;
    if (pkg) packages.push(pkg);
    else problems.push(`library ${key} is not Name/Version`);
  }
  return { packages, problems };
}

/** `packages.lock.json`: per target framework, each dependency's `resolved` version (projects left out). */
export function readPackagesLock(text: string): NugetRead {
  const { json, problem } = parse(text);
  if (problem) return { packages: [], problems: [problem] };
  if (!isObject(json) || !isObject(json.dependencies))
    return { packages: [], problems: ["no `dependencies` object"] };
  const packages: NugetPackage[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const framework of Object.values(json.dependencies)) {
    if (!isObject(framework)) continue;
    for (const [name, dep] of Object.entries(framework)) {
      if (!isObject(dep) || dep.type === "Project") continue;
      const pkg = nugetPackage(name, dep.resolved);
      if (!pkg) {
        problems.push(`${name}: no resolved version`);
        continue;
      }
      const key = `${pkg.name.toLowerCase()}@${pkg.version}`;
      if (!seen.has(key)) packages.push(pkg);
      seen.add(key);
    }
  }
  return { packages, problems };
}

/** A `.nuspec`: the `<id>` and `<version>` of its `<metadata>` (XML read only as far as those two). */
export function readNuspec(text: string): NugetRead {
  const metadata = /<metadata\b[^>]*>([\s\S]*?)<\/metadata>/.exec(text)?.[1];
  const id = metadata && /<id>\s*([^<]*?)\s*<\/id>/.exec(metadata)?.[1];
  const version = metadata && /<version>\s*([^<]*?)\s*<\/version>/.exec(metadata)?.[1];
  const pkg = nugetPackage(id, version);
  return pkg
    ? { packages: [pkg], problems: [] }
    : { packages: [], problems: ["no <metadata> <id> and <version>"] };
}
