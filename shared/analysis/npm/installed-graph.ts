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
  /** the root's workspaces (a production edge each), by directory relative to the root */
  workspaces?: { dir: string; production: string[]; devDependencies: string[] }[];
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
  const from = (dir: string, names: readonly string[]) => names.map((name) => ({ from: dir, name }));
  const workspaces = graph.workspaces ?? [];
  const production = reach(
    graph,
    [...from("", graph.production), ...workspaces.flatMap((w) => from(w.dir, w.production))],
    exists,
    new Set(),
  );
  const dev = [
    ...from("", graph.devDependencies),
    ...workspaces.flatMap((w) => from(w.dir, w.devDependencies)),
  ];
  return reach(graph, dev, exists, production);
}

/** Every install path reachable from `starts`, skipping (and not passing through) `seen`. */
function reach(
  graph: InstalledGraph,
  starts: readonly { from: string; name: string }[],
  exists: (key: string) => boolean,
  seen: ReadonlySet<string>,
): Set<string> {
  const out = new Set<string>();
  // an explicit queue: a tree nested thousands deep must not overflow the stack
  const queue = [...starts];
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
