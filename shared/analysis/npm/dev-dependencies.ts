import type { Package } from "../../model/inventory.js";
import type { LayerData } from "../analyzer.js";
import { devInstallPaths, type InstalledGraph } from "./installed-graph.js";
import { type NpmPackage, type ProjectManifest, packageId } from "./npm-record.js";
import { type YarnEntry, yarnDevPackages } from "./yarn-lock.js";

/** What one file leaves for the image-level step. */
export type NpmData =
  /** an installed manifest: a top-level one names the root its `node_modules` sits in; deps, what it depends on */
  | { tree?: string; deps?: string[] }
  /** a lockfile's packages (yarn's with its graph, so the project's package.json can tell dev apart) */
  | { lock: NpmPackage[]; yarn?: { entries: YarnEntry[]; berry: boolean } }
  /** npm's hidden lockfile: the install paths it marks dev */
  | { hiddenDev: string[] }
  /** a project's own package.json */
  | { project: ProjectManifest };

/** A tree whose dev packages are known: by install path (hidden lockfile) or by name@version (a lockfile beside it). */
interface DevTree {
  root: string;
  paths?: string[];
  ids?: string[];
}

export interface NpmFact {
  lockfiles: { layer: string; path: string; packages: NpmPackage[] }[];
  devTrees: DevTree[];
  /** trees with no lockfile of any kind beside them: dev told from the project's package.json */
  graphs?: InstalledGraph[];
}

const HIDDEN = "node_modules/.package-lock.json";
const dirname = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
const under = (root: string, rest: string) => (root ? `${root}/${rest}` : rest);

/**
 * The image fact: lockfiles whose directory has no surviving installed tree (their packages, dev
 * marked), and for each surviving tree what tells its dev packages: its hidden lockfile, else a
 * lockfile beside it.
 */
export function squashNpm(layers: readonly LayerData[]): NpmFact | undefined {
  const live = layers.filter((l) => l.survives);
  const trees = new Set<string>();
  const projects = new Map<string, ProjectManifest>();
  const hidden = new Map<string, string[]>();
  for (const { path, data } of live) {
    const d = data as NpmData;
    if ("tree" in d && d.tree !== undefined) trees.add(d.tree);
    else if ("project" in d) projects.set(dirname(path), d.project);
    else if ("hiddenDev" in d)
      hidden.set(path === HIDDEN ? "" : path.slice(0, -HIDDEN.length - 1), d.hiddenDev);
  }
  const fact: NpmFact = { lockfiles: [], devTrees: [] };
  for (const [root, paths] of hidden) if (trees.has(root)) fact.devTrees.push({ root, paths });
  const lockDirs = new Set<string>();
  for (const { layer, path, data } of live) {
    const d = data as NpmData;
    if (!("lock" in d)) continue;
    const dir = dirname(path);
    lockDirs.add(dir);
    const packages = markYarnDev(d, projects.get(dir));
    if (!trees.has(dir)) fact.lockfiles.push({ layer, path, packages });
    else if (!hidden.has(dir)) {
      const ids = packages.filter((p) => p.dev).map(packageId);
      if (ids.length > 0) fact.devTrees.push({ root: dir, ids });
    }
  }
  // a tree marked by its own lockfile, or inside one so marked (a workspace's nested node_modules), keeps that
  const marked = [...trees].filter((t) => hidden.has(t) || lockDirs.has(t));
  const unmarked = (root: string) => !marked.some((t) => t === root || t === "" || root.startsWith(`${t}/`));
  const graphs = installedGraphs(live, trees, projects, unmarked);
  if (graphs.length > 0) fact.graphs = graphs;
  return fact.lockfiles.length > 0 || fact.devTrees.length > 0 || graphs.length > 0 ? fact : undefined;
}

/** As npm does with no lockfile: each unmarked tree's graph, from its project's package.json down. */
function installedGraphs(
  live: readonly LayerData[],
  trees: ReadonlySet<string>,
  projects: ReadonlyMap<string, ProjectManifest>,
  unmarked: (root: string) => boolean,
): InstalledGraph[] {
  const graphs = new Map<string, InstalledGraph>();
  for (const root of trees) {
    const project = projects.get(root);
    if (!project || !unmarked(root)) continue;
    const production = Object.keys(project.dependencies);
    const prod = new Set(production);
    const devDependencies = Object.keys(project.devDependencies).filter((n) => !prod.has(n));
    const workspaces = workspacesOf(root, project, projects);
    graphs.set(root, {
      root,
      production,
      devDependencies,
      deps: {},
      ...(workspaces.length > 0 ? { workspaces } : {}),
    });
  }
  if (graphs.size === 0) return [];
  for (const { path, data } of live) {
    const d = data as NpmData;
    if (!("deps" in d) || !d.deps) continue;
    const at = path.indexOf("node_modules/");
    let tree = at === 0 ? "" : path.slice(0, at - 1);
    const own = graphs.get(tree);
    if (own) own.deps[installKey(tree, path)] = d.deps;
    // a workspace's own node_modules belongs to the root's graph as well
    while (tree !== "") {
      tree = dirname(tree);
      const graph = graphs.get(tree);
      if (graph?.workspaces) graph.deps[installKey(tree, path)] = d.deps;
    }
  }
  return [...graphs.values()];
}

/** The projects under `root` its `workspaces` globs name, by directory relative to the root. */
function workspacesOf(
  root: string,
  project: ProjectManifest,
  projects: ReadonlyMap<string, ProjectManifest>,
): NonNullable<InstalledGraph["workspaces"]> {
  if (!project.workspaces) return [];
  // a glob of many stars would backtrack for long on a long path: no real workspace needs them
  const globs = project.workspaces.filter((g) => g.split("*").length <= 9).map(globToRegExp);
  const out: NonNullable<InstalledGraph["workspaces"]> = [];
  for (const [dir, p] of projects) {
    if (dir === root || (root !== "" && !dir.startsWith(`${root}/`))) continue;
    const rel = root ? dir.slice(root.length + 1) : dir;
    if (rel.includes("node_modules") || !globs.some((g) => g.test(rel))) continue;
    const production = Object.keys(p.dependencies);
    const prod = new Set(production);
    out.push({
      dir: rel,
      production,
      devDependencies: Object.keys(p.devDependencies).filter((n) => !prod.has(n)),
    });
  }
  return out;
}

/** `packages/*`, `apps/**`, `./tools/cli/` as a whole-path pattern. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/^\.\//, "")
    .replace(/\/+$/, "")
    .split(/(\*\*|\*)/)
    .map((part) =>
      part === "**" ? ".*" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${body}$`);
}

/** `app/node_modules/a/package.json` under root `app` → `node_modules/a`. */
const installKey = (root: string, path: string) =>
  path.slice(root ? root.length + 1 : 0, -"/package.json".length);

function markYarnDev(
  d: Extract<NpmData, { lock: unknown }>,
  project: ProjectManifest | undefined,
): NpmPackage[] {
  if (!d.yarn || !project) return d.lock;
  const dev = yarnDevPackages({ packages: d.lock, problems: [], ...d.yarn }, project);
  return d.lock.map((p) => (dev.has(packageId(p)) ? { ...p, dev: true } : p));
}

/** Marks dev each installed npm package whose every copy its tree's dev record names. */
export function markInstalledDev(packages: Package[], fact: unknown): void {
  const devTrees = (fact as NpmFact | undefined)?.devTrees ?? [];
  const graphs = (fact as NpmFact | undefined)?.graphs ?? [];
  if (devTrees.length === 0 && graphs.length === 0) return;
  const devPaths = new Set(
    devTrees.flatMap((t) => (t.paths ?? []).map((key) => under(t.root, `${key}/package.json`))),
  );
  for (const graph of graphs)
    for (const key of devInstallPaths(graph, installedKeys(packages, graph.root)))
      devPaths.add(under(graph.root, `${key}/package.json`));
  const byIds = devTrees
    .filter((t) => t.ids)
    .map((t) => ({ prefix: under(t.root, "node_modules/"), ids: new Set(t.ids) }));
  for (const p of packages) {
    if (p.dev || !p.purl.startsWith("pkg:npm/") || p.paths.length === 0) continue;
    const id = `${p.name}@${p.version}`;
    const dev = p.paths.every(
      (path) => devPaths.has(path) || byIds.some((t) => path.startsWith(t.prefix) && t.ids.has(id)),
    );
    if (dev) p.dev = true;
  }
}

/** The install paths of the npm packages in a `node_modules` under `root` (its workspaces' too). */
function installedKeys(packages: readonly Package[], root: string): Set<string> {
  const prefix = root ? `${root}/` : "";
  const keys = new Set<string>();
  for (const p of packages)
    if (p.purl.startsWith("pkg:npm/"))
      for (const path of p.paths)
        if (path.startsWith(prefix) && path.includes("node_modules/")) keys.add(installKey(root, path));
  return keys;
}
