import type { Package } from "../../model/inventory.js";
import type { LayerData } from "../analyzer.js";
import { type NpmPackage, type ProjectManifest, packageId } from "./npm-record.js";
import { type YarnEntry, yarnDevPackages } from "./yarn-lock.js";

/** What one file leaves for the image-level step. */
export type NpmData =
  /** a tree's top-level manifest: the root the `node_modules` sits in */
  | { tree: string }
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
    if ("tree" in d) trees.add(d.tree);
    else if ("project" in d) projects.set(dirname(path), d.project);
    else if ("hiddenDev" in d)
      hidden.set(path === HIDDEN ? "" : path.slice(0, -HIDDEN.length - 1), d.hiddenDev);
  }
  const fact: NpmFact = { lockfiles: [], devTrees: [] };
  for (const [root, paths] of hidden) if (trees.has(root)) fact.devTrees.push({ root, paths });
  for (const { layer, path, data } of live) {
    const d = data as NpmData;
    if (!("lock" in d)) continue;
    const dir = dirname(path);
    const packages = markYarnDev(d, projects.get(dir));
    if (!trees.has(dir)) fact.lockfiles.push({ layer, path, packages });
    else if (!hidden.has(dir)) {
      const ids = packages.filter((p) => p.dev).map(packageId);
      if (ids.length > 0) fact.devTrees.push({ root: dir, ids });
    }
  }
  return fact.lockfiles.length > 0 || fact.devTrees.length > 0 ? fact : undefined;
}

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
  if (devTrees.length === 0) return;
  const devPaths = new Set(
    devTrees.flatMap((t) => (t.paths ?? []).map((key) => under(t.root, `${key}/package.json`))),
  );
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
