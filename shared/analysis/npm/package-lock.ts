import { MAX_LOCK_PACKAGES, type NpmPackage, type NpmRead, npmPackage, splitAlias } from "./npm-record.js";

// lockfile v1 nests `dependencies` as deep as node_modules goes; a hostile file goes deeper
const MAX_DEPTH = 256;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every registry package a package-lock.json (v1, v2, v3) or npm-shrinkwrap.json installs, dev
 * dependencies marked `dev` (a production install omits them; the policy decides whether they are
 * matched), workspaces and links left out (they are the project's own code).
 */
export function readPackageLock(json: unknown): NpmRead {
  if (!isObject(json)) return { packages: [], problems: ["not a JSON object"] };
  if (isObject(json.packages)) return readPackages(json.packages);
  if (isObject(json.dependencies)) return readDependencies(json.dependencies);
  return { packages: [], problems: [] };
}

/** v2/v3: `packages` keyed by install path ("node_modules/a/node_modules/b"). */
function readPackages(entries: Json): NpmRead {
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(entries)) {
    const at = key.lastIndexOf("node_modules/");
    if (at < 0 || !isObject(entry) || entry.link === true) continue;
    const folder = key.slice(at + "node_modules/".length);
    const pkg = npmPackage(typeof entry.name === "string" ? entry.name : folder, entry.version);
    if (pkg) packages.push(entry.dev === true ? { ...pkg, dev: true } : pkg);
    else if (
      typeof entry.version === "string" &&
      !/^(?:file|git|github|http|https|link):/.test(entry.version)
    ) {
      problems.push(`${key}: no registry version`);
    }
    if (packages.length >= MAX_LOCK_PACKAGES) {
      problems.push(`more than ${MAX_LOCK_PACKAGES} packages; the rest were not read`);
      break;
    }
  }
  return { packages, problems };
}

/** v1: `dependencies` nested by install location; an alias's version is `npm:real@1.2.3`. */
function readDependencies(root: Json): NpmRead {
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  const stack: { deps: Json; depth: number }[] = [{ deps: root, depth: 0 }];
  while (stack.length > 0) {
    const { deps, depth } = stack.pop()!;
    for (const [name, entry] of Object.entries(deps)) {
      if (!isObject(entry)) continue;
      const version = typeof entry.version === "string" ? entry.version : undefined;
      const alias = version ? splitAlias(version) : undefined;
      const pkg = alias ? npmPackage(alias.name, alias.version) : npmPackage(name, version);
      if (pkg) packages.push(entry.dev === true ? { ...pkg, dev: true } : pkg);
      if (packages.length >= MAX_LOCK_PACKAGES) {
        problems.push(`more than ${MAX_LOCK_PACKAGES} packages; the rest were not read`);
        return { packages, problems };
      }
      if (!isObject(entry.dependencies)) continue;
      if (depth + 1 >= MAX_DEPTH) problems.push(`dependencies nest deeper than ${MAX_DEPTH} under ${name}`);
      else stack.push({ deps: entry.dependencies, depth: depth + 1 });
    }
  }
  return { packages, problems };
}

/**
 * The install paths (`node_modules/a/node_modules/b`) that npm's hidden lockfile
 * (`node_modules/.package-lock.json`, written by npm 7+ beside what it installed) marks `dev`. A
 * `devOptional` package is also an optional dependency of a production one, so a production install
 * keeps it: not dev.
 */
export function readHiddenLockDevPaths(json: unknown): { devPaths: string[]; problems: string[] } {
  if (!isObject(json) || !isObject(json.packages))
    return { devPaths: [], problems: ["not a lockfile with a packages object"] };
  const devPaths: string[] = [];
  for (const [key, entry] of Object.entries(json.packages)) {
    if (isObject(entry) && entry.dev === true && key.includes("node_modules/")) devPaths.push(key);
    if (devPaths.length >= MAX_LOCK_PACKAGES)
      return { devPaths, problems: [`more than ${MAX_LOCK_PACKAGES} packages; the rest were not read`] };
  }
  return { devPaths, problems: [] };
}
