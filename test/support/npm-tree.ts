// Real npm trees for the language-package tests: a small app installed with the real package
// managers from the npm registry, cached under $PORTCULLIS_TEST_CACHE like the Debian image, with
// each tool's own listing of what it installed as the expected answer.
import { mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Entry } from "../analysis/layers.js";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "npm-tree-v2";
// the versions of the other package managers, fetched from the npm registry with npx
const PNPM = "pnpm@10.34.9";
const YARN_CLASSIC = "yarn@1.22.22";

/** Scoped names, an alias, a nested version conflict (ms), a dev dependency and a workspace. */
const APP = {
  name: "portcullis-npm-fixture",
  version: "1.0.0",
  private: true,
  workspaces: ["packages/*"],
  dependencies: {
    debug: "2.6.9",
    ms: "2.1.3",
    "@sindresorhus/is": "4.6.0",
    "strip-alias": "npm:strip-ansi@6.0.1",
    chalk: "4.1.2",
  },
  devDependencies: { "is-number": "7.0.0" },
};
const WORKSPACE = { name: "fixture-workspace", version: "0.1.0", dependencies: { "has-flag": "4.0.0" } };

export interface NpmTestTree {
  /** the app: package.json, package-lock.json, node_modules, packages/fixture-workspace */
  dir: string;
  /** `npm ls --json --all --long`: everything installed, dev included */
  ls: NpmLsNode;
  /** the same with `--omit=dev` */
  lsProd: NpmLsNode;
  /** the same app (no workspace) installed by pnpm: pnpm-lock.yaml v9 and node_modules/.pnpm */
  pnpmDir: string;
  /** `pnpm ls --json --depth Infinity` (all) and `--prod` */
  pnpmLs: PnpmLsNode[];
  pnpmLsProd: PnpmLsNode[];
  /** the same app installed by yarn classic: yarn.lock v1 */
  yarnDir: string;
}

export interface PnpmLsNode {
  from?: string;
  version?: string;
  dependencies?: Record<string, PnpmLsNode>;
  devDependencies?: Record<string, PnpmLsNode>;
}

/** name@version of every package in `pnpm ls` output (`from` is the registry name of an alias). */
export function flattenPnpmLs(projects: PnpmLsNode[]): string[] {
  const out = new Set<string>();
  const stack = [...projects];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const [key, dep] of Object.entries({ ...node.dependencies, ...node.devDependencies })) {
      if (!dep.version?.startsWith("link:")) out.add(`${dep.from ?? key}@${dep.version}`);
      stack.push(dep);
    }
  }
  return [...out].sort();
}

export interface NpmLsNode {
  name?: string;
  version?: string;
  path?: string;
  resolved?: string;
  dependencies?: Record<string, NpmLsNode>;
}

/** name@version of every registry package in an `npm ls` tree (workspaces and links, `file:` resolutions, left out). */
export function flattenNpmLs(root: NpmLsNode): string[] {
  const out = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    for (const [key, node] of Object.entries(stack.pop()!.dependencies ?? {})) {
      if (!node.resolved?.startsWith("file:")) out.add(`${node.name ?? key}@${node.version}`);
      stack.push(node);
    }
  }
  return [...out].sort();
}

export const buildNpmTestTree: () => Promise<NpmTestTree> = oncePerProcess(loadOrBuild);

async function load(dir: string): Promise<NpmTestTree | undefined> {
  try {
    const ls = JSON.parse(await readFile(path.join(dir, "ls.json"), "utf8")) as NpmLsNode;
    const lsProd = JSON.parse(await readFile(path.join(dir, "ls-prod.json"), "utf8")) as NpmLsNode;
    const pnpmLs = JSON.parse(await readFile(path.join(dir, "pnpm-ls.json"), "utf8")) as PnpmLsNode[];
    const pnpmLsProd = JSON.parse(
      await readFile(path.join(dir, "pnpm-ls-prod.json"), "utf8"),
    ) as PnpmLsNode[];
    return {
      dir: path.join(dir, "app"),
      ls,
      lsProd,
      pnpmDir: path.join(dir, "pnpm"),
      pnpmLs,
      pnpmLsProd,
      yarnDir: path.join(dir, "yarn"),
    };
  } catch {
    return undefined;
  }
}

async function loadOrBuild(): Promise<NpmTestTree> {
  return cachedTestBuild(RECIPE, load, async (work) => {
    const app = path.join(work, "app");
    await mkdir(path.join(app, "packages/fixture-workspace"), { recursive: true });
    await writeFile(path.join(app, "package.json"), `${JSON.stringify(APP, null, 2)}\n`);
    await writeFile(
      path.join(app, "packages/fixture-workspace/package.json"),
      `${JSON.stringify(WORKSPACE, null, 2)}\n`,
    );
    const quiet = ["--no-audit", "--no-fund", "--ignore-scripts", "--no-update-notifier"];
    await runTool("npm", ["install", ...quiet], { cwd: app, timeoutMs: 300_000 });
    const ls = await runTool("npm", ["ls", "--json", "--all", "--long"], { cwd: app });
    const prod = await runTool("npm", ["ls", "--json", "--all", "--long", "--omit=dev"], { cwd: app });
    await writeFile(path.join(work, "ls.json"), ls.stdout);
    await writeFile(path.join(work, "ls-prod.json"), prod.stdout);
    const { workspaces: _w, ...plain } = APP;
    for (const tool of ["pnpm", "yarn"]) {
      await mkdir(path.join(work, tool));
      await writeFile(path.join(work, tool, "package.json"), `${JSON.stringify(plain, null, 2)}\n`);
    }
    const pnpm = (args: string[]) =>
      runTool("npx", ["--yes", PNPM, ...args], { cwd: path.join(work, "pnpm"), timeoutMs: 300_000 });
    await pnpm(["install", "--ignore-scripts"]);
    await writeFile(
      path.join(work, "pnpm-ls.json"),
      (await pnpm(["ls", "--json", "--depth", "Infinity"])).stdout,
    );
    await writeFile(
      path.join(work, "pnpm-ls-prod.json"),
      (await pnpm(["ls", "--json", "--depth", "Infinity", "--prod"])).stdout,
    );
    await runTool("npx", ["--yes", YARN_CLASSIC, "install", "--ignore-scripts", "--non-interactive"], {
      cwd: path.join(work, "yarn"),
      timeoutMs: 300_000,
    });
  });
}

/** A directory as layer entries under `prefix` (files and symlinks, in a stable order). */
export async function dirAsEntries(
  dir: string,
  prefix: string,
  keep: (relative: string) => boolean = () => true,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (!keep(child)) continue;
      if (d.isDirectory()) await walk(child);
      else if (d.isSymbolicLink())
        entries.push({ name: `${prefix}${child}`, symlink: await readlink(path.join(dir, child)) });
      else if (d.isFile())
        entries.push({ name: `${prefix}${child}`, content: await readFile(path.join(dir, child)) });
    }
  };
  await walk("");
  return entries;
}
