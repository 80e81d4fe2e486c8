import type { Analyzer, AnalyzerOutput, ImageInventoryOutput } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { markInstalledDev, type NpmData, type NpmFact, squashNpm } from "./dev-dependencies.js";
import { type NpmRead, problemsToWarnings, toRecord } from "./npm-record.js";
import { readInstalledPackageJson, readProjectPackageJson } from "./package-json.js";
import { readHiddenLockDevPaths, readPackageLock } from "./package-lock.js";
import { readPnpmLock } from "./pnpm-lock.js";
import { readYarnLock } from "./yarn-lock.js";

// `<root>/node_modules/[@scope/]<name>/package.json`, nested trees included; `.bin`, `.cache` are not packages
const INSTALLED = /^(?:(.*?)\/)?node_modules\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;
const LOCKFILES = new Set(["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"]);
// Debian's node-* packages install modules outside any node_modules: /usr/share/nodejs/<name>,
// /usr/lib/nodejs/<name>, /usr/lib/<triplet>/nodejs/<name>
const DEBIAN_NODEJS =
  /^usr\/(?:share|lib(?:\/[^/]+)?)\/nodejs\/(?:@[^/.][^/]*\/)?[^/.@][^/]*\/package\.json$/;
// npm 7+ writes it beside the tree it installed, with the lockfile's dev flags
const HIDDEN_LOCK = /(?:^|\/)node_modules\/\.package-lock\.json$/;
// real manifests stay far below this; bigger ones are not worth parsing
const MAX_PACKAGE_JSON = 4 * 1024 * 1024;

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);

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
  // 4: an installed manifest's data carries its dependency names
  version: 4,
  maxFileSize: 32 * 1024 * 1024,
  extensions: ["json", "lock", "yaml"],
  required(path) {
    // asked of every path of every layer: every name it takes ends so
    if (!path.endsWith(".json") && !path.endsWith(".lock") && !path.endsWith(".yaml")) return false;
    const base = basename(path);
    if (base === ".package-lock.json") return HIDDEN_LOCK.test(path);
    // a project's own package.json says which of its lockfile's packages are dev
    if (base === "package.json") return INSTALLED.test(path) || !path.includes("node_modules/");
    return LOCKFILES.has(base) && !path.includes("node_modules/");
  },
  analyze({ path, content }): AnalyzerOutput {
    if (HIDDEN_LOCK.test(path)) return analyzeHiddenLock(path, content);
    if (basename(path) === "package.json")
      return path.includes("node_modules/") || DEBIAN_NODEJS.test(path)
        ? analyzeInstalled(path, content)
        : analyzeProject(path, content);
    const name = basename(path);
    const text = content.toString("utf8");
    if (name === "yarn.lock") {
      const { packages, problems, entries, berry } = readYarnLock(text);
      const data: NpmData = { lock: packages, yarn: { entries, berry } };
      return { data, warnings: problemsToWarnings(path, problems) };
    }
    const read = name === "pnpm-lock.yaml" ? readPnpmLock(text) : readJsonLock(text);
    const data: NpmData = { lock: read.packages };
    return { data, warnings: problemsToWarnings(path, read.problems) };
  },
  identify: identifyNpmPackage,
  squash: squashNpm,
  inventory: lockfileInventory,
  annotate: markInstalledDev,
};

function analyzeHiddenLock(path: string, content: Buffer): AnalyzerOutput {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch (err) {
    return { warnings: problemsToWarnings(path, [`not JSON (${(err as Error).message})`]) };
  }
  const { devPaths, problems } = readHiddenLockDevPaths(json);
  const data: NpmData = { hiddenDev: devPaths };
  return { data, warnings: problemsToWarnings(path, problems) };
}

function analyzeProject(path: string, content: Buffer): AnalyzerOutput {
  if (content.length > MAX_PACKAGE_JSON)
    return {
      warnings: problemsToWarnings(path, [`${content.length} bytes is too large for a package manifest`]),
    };
  const read = readProjectPackageJson(content);
  // a package.json that is no project's (a tool's data file) says nothing about dev: not worth a warning
  if (typeof read === "string") return {};
  const data: NpmData = { project: read };
  return { data };
}

function analyzeInstalled(path: string, content: Buffer): AnalyzerOutput {
  const at = path.indexOf("node_modules/");
  // only a tree's top level marks it: enough to know a lockfile beside it is superseded; pnpm's
  // top level is links into its store, so a store entry marks it; Debian's module directories (no
  // node_modules) are no tree a lockfile sits beside
  const rest = path.slice(at + "node_modules/".length);
  const top = !rest.includes("node_modules/") || rest.startsWith(".pnpm/");
  const tree = at >= 0 && top ? { tree: at === 0 ? "" : path.slice(0, at - 1) } : undefined;
  if (content.length > MAX_PACKAGE_JSON) {
    return {
      ...(tree ? { data: tree } : {}),
      warnings: problemsToWarnings(path, [`${content.length} bytes is too large for a package manifest`]),
    };
  }
  const read = readInstalledPackageJson(content);
  if (typeof read === "string")
    return { ...(tree ? { data: tree } : {}), warnings: problemsToWarnings(path, [read]) };
  // the names it depends on, for a tree with no lockfile to say what is dev
  const deps = at >= 0 && read.deps.length > 0 ? { deps: read.deps } : undefined;
  const data: NpmData | undefined = tree || deps ? { ...tree, ...deps } : undefined;
  return {
    ...(typeof read.package === "string"
      ? { warnings: problemsToWarnings(path, [read.package]) }
      : { packages: [toRecord(read.package)] }),
    ...(data ? { data } : {}),
  };
}

function readJsonLock(text: string): NpmRead {
  try {
    return readPackageLock(JSON.parse(text));
  } catch (err) {
    return { packages: [], problems: [`not JSON (${(err as Error).message})`] };
  }
}

function lockfileInventory(fact: unknown): ImageInventoryOutput {
  const out: ImageInventoryOutput = { packages: [], warnings: [] };
  if (!fact) return out;
  const seen = new Map<string, (typeof out.packages)[number]>();
  for (const { layer, path, packages } of (fact as NpmFact).lockfiles) {
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
