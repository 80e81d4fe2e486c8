import type { Analyzer, AnalyzerOutput, ImageInventoryOutput, LayerData } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { type NpmPackage, type NpmRead, problemsToWarnings, toRecord } from "./npm-record.js";
import { readInstalledPackageJson } from "./package-json.js";
import { readPackageLock } from "./package-lock.js";
import { readPnpmLock } from "./pnpm-lock.js";
import { readYarnLock } from "./yarn-lock.js";

// `<root>/node_modules/[@scope/]<name>/package.json`, nested trees included; `.bin`, `.cache` are not packages
const INSTALLED = /^(?:(.*?)\/)?node_modules\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;
const LOCKFILES = new Set(["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"]);
// real manifests stay far below this; bigger ones are not worth parsing
const MAX_PACKAGE_JSON = 4 * 1024 * 1024;

/** What one file leaves for the image-level step: the tree root it belongs to, or a lockfile's packages. */
type NpmData = { tree: string } | { lock: NpmPackage[] };

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const dirname = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");

/**
 * npm packages: the installed tree (`node_modules/** `pkg:npm/%40scope/name@1.2.3`, in the `npm` ecosystem. */
export const identifyNpmPackage = languageIdentity({
  type: "npm",
  ecosystem: "npm",
  namespace: "first-slash",
});

/**\/package.json`) is the truth; a lockfile
 * (package-lock v1–v3, yarn classic and berry, pnpm) counts only where no installed tree sits beside it.
 */
export const npmAnalyzer: Analyzer = {
  name: "npm",
  version: 2,
  maxFileSize: 32 * 1024 * 1024,
  required(path) {
    if (path.endsWith("/package.json")) return INSTALLED.test(path);
    return LOCKFILES.has(basename(path)) && !path.includes("node_modules/");
  },
  analyze({ path, content }): AnalyzerOutput {
    if (path.endsWith("package.json")) return analyzeInstalled(path, content);
    const read = readLockfile(basename(path), content);
    const data: NpmData = { lock: read.packages };
    return { data, warnings: problemsToWarnings(path, read.problems) };
  },
  identify: identifyNpmPackage,
  squash: lockfilesWithoutTree,
  inventory: lockfileInventory,
};

function analyzeInstalled(path: string, content: Buffer): AnalyzerOutput {
  const at = path.indexOf("node_modules/");
  // only a tree's top level marks it: enough to know a lockfile beside it is superseded
  const top = !path.slice(at + "node_modules/".length).includes("node_modules/");
  const data: NpmData | undefined = top ? { tree: at === 0 ? "" : path.slice(0, at - 1) } : undefined;
  if (content.length > MAX_PACKAGE_JSON) {
    return {
      ...(data ? { data } : {}),
      warnings: problemsToWarnings(path, [`${content.length} bytes is too large for a package manifest`]),
    };
  }
  const read = readInstalledPackageJson(content);
  if (typeof read === "string")
    return { ...(data ? { data } : {}), warnings: problemsToWarnings(path, [read]) };
  return { packages: [toRecord(read)], ...(data ? { data } : {}) };
}

function readLockfile(name: string, content: Buffer): NpmRead {
  const text = content.toString("utf8");
  if (name === "yarn.lock") return readYarnLock(text);
  if (name === "pnpm-lock.yaml") return readPnpmLock(text);
  try {
    return readPackageLock(JSON.parse(text));
  } catch (err) {
    return { packages: [], problems: [`not JSON (${(err as Error).message})`] };
  }
}

interface LockfileFact {
  lockfiles: { layer: string; path: string; packages: NpmPackage[] }[];
}

/** Keeps the surviving lockfiles whose directory has no surviving installed tree. */
function lockfilesWithoutTree(layers: readonly LayerData[]): LockfileFact | undefined {
  const trees = new Set<string>();
  for (const l of layers) {
    const data = l.data as NpmData;
    if (l.survives && "tree" in data) trees.add(data.tree);
  }
  const lockfiles = layers
    .filter((l) => l.survives && "lock" in (l.data as NpmData) && !trees.has(dirname(l.path)))
    .map((l) => ({ layer: l.layer, path: l.path, packages: (l.data as { lock: NpmPackage[] }).lock }));
  return lockfiles.length > 0 ? { lockfiles } : undefined;
}

function lockfileInventory(fact: unknown): ImageInventoryOutput {
  const out: ImageInventoryOutput = { packages: [], warnings: [] };
  if (!fact) return out;
  const seen = new Map<string, (typeof out.packages)[number]>();
  for (const { layer, path, packages } of (fact as LockfileFact).lockfiles) {
    for (const p of packages) {
      const key = `${p.name}@${p.version}`;
      const known = seen.get(key);
      if (known) {
        if (!known.paths.includes(path)) known.paths.push(path);
        // a production dependency in any lockfile is one
        if (known.dev && !p.dev) delete known.dev;
        continue;
      }
      const record = { ...toRecord(p), layer, paths: [path] };
      seen.set(key, record);
      out.packages.push(record);
    }
  }
  return out;
}
