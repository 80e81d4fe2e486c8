import { parse as parseToml } from "smol-toml";
import { pep503Name } from "../../model/package-name.js";
import type { LayerData } from "../analyzer.js";
import type { Package } from "../../model/inventory.js";

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);
const dirname = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "");
// a PEP 508 requirement starts with its name
const REQUIREMENT_NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;
// far beyond any real project's dependency list
const MAX_ROOTS = 10_000;

/** What a pyproject.toml asks for: production (main group) and every other group (dev, test, docs …). */
export interface PyprojectGroups {
  main: string[];
  dev: string[];
}

/** What one file leaves for the image-level step. */
export type PypiData =
  /** a poetry.lock that marks no group itself (poetry 1.5–1.8): who depends on whom, PEP 503 names */
  { poetryGraph: Record<string, string[]> } | { pyproject: PyprojectGroups };

export interface PypiFact {
  /** poetry.lock path → the PEP 503 names only a non-main group reaches */
  devByLock: Record<string, string[]>;
}

/** The groups of a pyproject.toml: Poetry's own tables, PEP 621 `[project]`, PEP 735 `[dependency-groups]`. */
export function readPyproject(text: string): PyprojectGroups | string {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (err) {
    return `not TOML (${(err as Error).message.split("\n")[0]})`;
  }
  const main = new Set<string>();
  const dev = new Set<string>();
  const add = (to: Set<string>, name: unknown) => {
    if (typeof name !== "string" || to.size >= MAX_ROOTS) return;
    const m = REQUIREMENT_NAME.exec(name);
    if (m && pep503Name(m[1]!) !== "python") to.add(pep503Name(m[1]!));
  };
  const poetry = isTable(doc.tool) && isTable(doc.tool.poetry) ? doc.tool.poetry : {};
  if (isTable(poetry.dependencies)) for (const n of Object.keys(poetry.dependencies)) add(main, n);
  if (isTable(poetry["dev-dependencies"]))
    for (const n of Object.keys(poetry["dev-dependencies"])) add(dev, n);
  if (isTable(poetry.group)) {
    for (const [group, table] of Object.entries(poetry.group)) {
      if (!isTable(table) || !isTable(table.dependencies)) continue;
      // `poetry install` installs the main group by that name too
      for (const n of Object.keys(table.dependencies)) add(group === "main" ? main : dev, n);
    }
  }
  const project = isTable(doc.project) ? doc.project : {};
  if (Array.isArray(project.dependencies)) for (const r of project.dependencies) add(main, r);
  if (isTable(project["optional-dependencies"]))
    for (const list of Object.values(project["optional-dependencies"]))
      if (Array.isArray(list)) for (const r of list) add(main, r);
  if (isTable(doc["dependency-groups"]))
    for (const list of Object.values(doc["dependency-groups"]))
      if (Array.isArray(list)) for (const r of list) add(dev, r);
  return { main: [...main], dev: [...dev] };
}

/** For each surviving poetry.lock without group marks, what only dev groups of the pyproject.toml beside it reach. */
export function squashPypi(layers: readonly LayerData[]): PypiFact | undefined {
  const projects = new Map<string, PyprojectGroups>();
  for (const { path, data, survives } of layers)
    if (survives && "pyproject" in (data as PypiData))
      projects.set(dirname(path), (data as { pyproject: PyprojectGroups }).pyproject);
  const devByLock: Record<string, string[]> = {};
  for (const { path, data, survives } of layers) {
    const d = data as PypiData;
    const project = projects.get(dirname(path));
    if (!survives || !("poetryGraph" in d) || !project) continue;
    const prod = reach(d.poetryGraph, project.main);
    const dev = [...reach(d.poetryGraph, project.dev)].filter((n) => !prod.has(n));
    if (dev.length > 0) devByLock[path] = dev.sort();
  }
  return Object.keys(devByLock).length > 0 ? { devByLock } : undefined;
}

function reach(graph: Record<string, string[]>, roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    if (Object.hasOwn(graph, name)) stack.push(...graph[name]!);
  }
  return seen;
}

/** Marks dev each PyPI package that only unmarked poetry.lock files list, all of them as dev-only. */
export function markPoetryDev(packages: Package[], fact: unknown): void {
  const devByLock = (fact as PypiFact | undefined)?.devByLock;
  if (!devByLock) return;
  const sets = new Map(Object.entries(devByLock).map(([path, names]) => [path, new Set(names)]));
  for (const p of packages) {
    if (p.dev || !p.purl.startsWith("pkg:pypi/") || p.paths.length === 0) continue;
    if (p.paths.every((path) => sets.get(path)?.has(p.name))) p.dev = true;
  }
}
