/**
 * A tree with no lockfile to say what is dev, read as npm reads it: its installed manifests'
 * dependency names, keyed by install path relative to the root (`node_modules/a/node_modules/b`).
 */
export interface InstalledGraph {
  /** the directory the `node_modules` sits in ("" at the image root) */
  root: string;
  /** the root package.json's dependencies, optionalDependencies and peerDependencies */
  production: string[];
  devDependencies: string[];
  /** install path → the names it depends on (packages with none are left out) */
  deps: Record<string, string[]>;
}

/**
 * The install paths reachable only from the root's devDependencies, following Node's resolution
 * (`<key>/node_modules/<name>`, then each enclosing package's `node_modules` up to the root).
 * `installed` says which install paths hold a package; what neither root reaches is in no set.
 */
export function devInstallPaths(graph: InstalledGraph, installed: ReadonlySet<string>): Set<string> {
  const exists = (key: string) => installed.has(key) || Object.hasOwn(graph.deps, key);
  const production = reach(graph, graph.production, exists, new Set());
  return reach(graph, graph.devDependencies, exists, production);
}

/** Every install path reachable from the root's `names`, skipping (and not passing through) `seen`. */
function reach(
  graph: InstalledGraph,
  names: readonly string[],
  exists: (key: string) => boolean,
  seen: ReadonlySet<string>,
): Set<string> {
  const out = new Set<string>();
  // an explicit queue: a tree nested thousands deep must not overflow the stack
  const queue: { from: string; name: string }[] = names.map((name) => ({ from: "", name }));
  for (let i = 0; i < queue.length; i++) {
    const { from, name } = queue[i]!;
    const key = resolve(from, name, exists);
    if (key === undefined || seen.has(key) || out.has(key)) continue;
    out.add(key);
    for (const dep of Object.hasOwn(graph.deps, key) ? graph.deps[key]! : [])
      queue.push({ from: key, name: dep });
  }
  return out;
}

/** Where Node finds `name` required from the package installed at `from` ("" is the root). */
function resolve(from: string, name: string, exists: (key: string) => boolean): string | undefined {
  let dir = from;
  for (;;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (exists(key)) return key;
    if (!dir) return undefined;
    const up = dir.lastIndexOf("/node_modules/");
    dir = up < 0 ? "" : dir.slice(0, up);
  }
}
