import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Analyzer } from "../../../shared/analysis/analyzer.js";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { npmAnalyzer } from "../../../shared/analysis/npm/npm-analyzer.js";
import { readPackageLock } from "../../../shared/analysis/npm/package-lock.js";
import { readPnpmLock } from "../../../shared/analysis/npm/pnpm-lock.js";
import { readYarnLock } from "../../../shared/analysis/npm/yarn-lock.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { corpusPath } from "../../support/corpus.js";
import {
  buildNpmTestTree,
  dirAsEntries,
  flattenNpmLs,
  flattenPnpmLs,
  type NpmLsNode,
  type NpmTestTree,
} from "../../support/npm-tree.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

const analyzers: Analyzer[] = [npmAnalyzer];

async function inventory(...layers: Entry[][]) {
  const reports = [];
  for (const entries of layers) {
    const blob = await layerBlob(entries);
    reports.push(await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS }));
  }
  return squashLayers(reports, { analyzers });
}
/** Writes each `package.json` of a hand-built tree under `dir`. */
function writeJsonFiles(dir: string, files: Record<string, unknown>): void {
  for (const [rel, json] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), JSON.stringify(json));
  }
}

const ids = (packages: { name: string; version: string }[]) =>
  [...new Set(packages.map((p) => `${p.name}@${p.version}`))].sort();

let tree: NpmTestTree;
beforeAll(async () => {
  tree = await buildNpmTestTree();
}, 600_000);

describe("npm, a real tree installed by npm", () => {
  const app = () => dirAsEntries(tree.dir, "app/");

  it("lists what npm ls lists: scoped names, the alias by its real name, nested versions, dev too", async () => {
    const { packages, warnings } = await inventory(await app());
    // no OS release in this layer: that one warning is expected
    expect(warnings.map((w) => w.code)).toEqual(["os-unknown"]);
    expect(ids(packages)).toEqual(flattenNpmLs(tree.ls));
    expect(packages.find((p) => p.name === "strip-ansi")).toMatchObject({
      ecosystem: "npm",
      purl: "pkg:npm/strip-ansi@6.0.1",
      paths: ["app/node_modules/strip-alias/package.json"],
    });
    expect(packages.find((p) => p.name === "@sindresorhus/is")?.purl).toBe(
      "pkg:npm/%40sindresorhus/is@4.6.0",
    );
    // the installed tree is the truth: the lockfile beside it adds nothing
    for (const p of packages) expect(p.paths.every((x) => x.includes("node_modules/"))).toBe(true);
  });

  it("marks the installed tree's dev dependencies from npm's hidden lockfile, as npm ls --omit=dev leaves them out", async () => {
    const { packages } = await inventory(await app());
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(tree.lsProd));
    expect(ids(packages.filter((p) => p.dev)).length).toBeGreaterThan(0);
  });

  it("marks nothing dev in a tree that npm ci --omit=dev installed: what is there is production", async () => {
    const prod = mkdtempSync(path.join(tmpdir(), "portcullis-npm-prod-"));
    try {
      execFileSync("cp", ["-r", `${tree.dir}/.`, prod]);
      rmSync(path.join(prod, "node_modules"), { recursive: true, force: true });
      const quiet = ["--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"];
      execFileSync("npm", ["ci", "--omit=dev", ...quiet], { cwd: prod, stdio: "pipe" });
      const ls = JSON.parse(
        execFileSync("npm", ["ls", "--json", "--all", "--long", "--omit=dev"], {
          cwd: prod,
          encoding: "utf8",
        }),
      ) as NpmLsNode;
      const { packages } = await inventory(await dirAsEntries(prod, "app/"));
      expect(ids(packages)).toEqual(flattenNpmLs(ls));
      expect(ids(packages)).toEqual(flattenNpmLs(tree.lsProd));
      expect(packages.filter((p) => p.dev)).toEqual([]);
    } finally {
      rmSync(prod, { recursive: true, force: true });
    }
  }, 120_000);

  it("reads the lockfile alone, dev dependencies marked, as npm ls and npm ls --omit=dev do", async () => {
    const { packages } = await inventory(
      await dirAsEntries(tree.dir, "app/", (rel) => !rel.startsWith("node_modules")),
    );
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(tree.lsProd));
    expect(ids(packages)).toEqual(flattenNpmLs(tree.ls));
    expect(packages.every((p) => p.paths[0] === "app/package-lock.json")).toBe(true);
  });

  it("drops the lockfile's packages once a later layer installs the tree, and keeps the layer that did", async () => {
    const all = await app();
    const lockOnly = all.filter((e) => !e.name.startsWith("app/node_modules/"));
    const treeOnly = all.filter((e) => e.name.startsWith("app/node_modules/"));
    const { packages } = await inventory(lockOnly, treeOnly);
    expect(ids(packages)).toEqual(flattenNpmLs(tree.ls));
  });
});

describe("npm, dev and devOptional in a real tree installed from local tarballs", () => {
  // p-opt is a dev dependency and an optional dependency of the production p-prod: npm marks it
  // devOptional and a production install keeps it; p-devonly is dev only
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "portcullis-npm-devopt-"));
    const manifests = {
      "p-opt": { name: "p-opt", version: "1.0.0" },
      "p-devonly": { name: "p-devonly", version: "1.0.0" },
      "p-prod": { name: "p-prod", version: "1.0.0", optionalDependencies: { "p-opt": "1.0.0" } },
    };
    const tarball = (name: string) => `file:../${name}/${name}-1.0.0.tgz`;
    for (const [name, manifest] of Object.entries(manifests)) {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, "package.json"), JSON.stringify(manifest));
      execFileSync("npm", ["pack", "--silent"], { cwd: path.join(dir, name), stdio: "ignore" });
    }
    const app = {
      name: "app",
      version: "1.0.0",
      dependencies: { "p-prod": tarball("p-prod") },
      devDependencies: { "p-opt": tarball("p-opt"), "p-devonly": tarball("p-devonly") },
      // p-prod asks for p-opt by version: the override points it at the local tarball (no registry)
      overrides: { "p-opt": tarball("p-opt") },
    };
    mkdirSync(path.join(dir, "app"));
    writeFileSync(path.join(dir, "app", "package.json"), JSON.stringify(app));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const npm = (args: string[]) =>
    execFileSync("npm", [...args, "--no-audit", "--no-fund", "--offline"], {
      cwd: path.join(dir, "app"),
      encoding: "utf8",
    });
  const lsIds = (args: string[]) => {
    const names: string[] = [];
    const walk = (node: NpmLsNode) => {
      for (const [key, dep] of Object.entries(node.dependencies ?? {})) {
        names.push(`${dep.name ?? key}@${dep.version}`);
        walk(dep);
      }
    };
    walk(JSON.parse(npm(["ls", "--json", "--all", "--long", ...args])) as NpmLsNode);
    return [...new Set(names)].sort();
  };

  it("marks dev only what npm --omit=dev leaves out: devOptional stays production", async () => {
    npm(["install"]);
    const { packages } = await inventory(await dirAsEntries(path.join(dir, "app"), "app/"));
    expect(ids(packages)).toEqual(lsIds([]));
    expect(ids(packages.filter((p) => !p.dev))).toEqual(lsIds(["--omit=dev"]));
    expect(ids(packages.filter((p) => p.dev))).toEqual(["p-devonly@1.0.0"]);
  }, 120_000);

  it("marks nothing dev in the tree npm ci --omit=dev installed from the same lockfile", async () => {
    rmSync(path.join(dir, "app", "node_modules"), { recursive: true, force: true });
    npm(["ci", "--omit=dev"]);
    const { packages } = await inventory(await dirAsEntries(path.join(dir, "app"), "app/"));
    expect(ids(packages)).toEqual(lsIds(["--omit=dev"]));
    expect(ids(packages)).toEqual(["p-opt@1.0.0", "p-prod@1.0.0"]);
    expect(packages.filter((p) => p.dev)).toEqual([]);
  }, 120_000);
});

describe("npm lockfiles from other projects", () => {
  const corpus = (f: string) => readFileSync(corpusPath("pkgdb/npm/syft", f));

  for (const file of [
    "package-lock-2.json",
    "package-lock-3.json",
    "alias-package-lock-2.json",
    "array-license-package-lock.json",
  ]) {
    it(`reads ${file} as npm ls --package-lock-only does, dev dependencies marked as --omit=dev leaves them out`, () => {
      const lock = JSON.parse(corpus(file).toString()) as { packages: Record<string, unknown> };
      const dir = mkdtempSync(path.join(tmpdir(), "portcullis-npm-lock-"));
      let prod: string[];
      let all: string[];
      try {
        writeFileSync(path.join(dir, "package-lock.json"), corpus(file));
        // npm reads the lockfile against the root manifest it records
        writeFileSync(path.join(dir, "package.json"), JSON.stringify(lock.packages[""]));
        const ls = (...extra: string[]) =>
          flattenNpmLs(
            JSON.parse(
              execFileSync(
                "npm",
                ["ls", "--package-lock-only", "--json", "--all", "--long", "--offline", ...extra],
                {
                  cwd: dir,
                },
              ).toString(),
            ),
          );
        prod = ls("--omit=dev");
        all = ls();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const read = readPackageLock(JSON.parse(corpus(file).toString()));
      expect(read.problems).toEqual([]);
      expect(ids(read.packages.filter((p) => !p.dev))).toEqual(prod);
      expect(ids(read.packages)).toEqual(all);
    });
  }

  it("reads yarn classic, yarn berry and pnpm v5 and v9 lockfiles of other projects without a complaint", () => {
    for (const f of ["yarn.lock", "yarn-berry.lock"])
      expect(readYarnLock(corpus(f).toString()).problems).toEqual([]);
    for (const f of ["pnpm-lock.yaml", "pnpm-v9-lock.yaml"])
      expect(readPnpmLock(corpus(f).toString()).problems).toEqual([]);
    // the v5 file's packages are all dev dependencies; the v9 one has none marked
    const v5 = readPnpmLock(corpus("pnpm-lock.yaml").toString()).packages;
    expect(v5.length).toBeGreaterThan(0);
    expect(v5.every((p) => p.dev)).toBe(true);
  });
});

describe("pnpm and yarn, the same app installed by the real tools", () => {
  it("reads pnpm-lock.yaml v9 with dev dependencies marked, as pnpm ls and pnpm ls --prod do", async () => {
    const entries = await dirAsEntries(tree.pnpmDir, "srv/", (rel) => !rel.startsWith("node_modules"));
    const { packages } = await inventory(entries);
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenPnpmLs(tree.pnpmLsProd));
    expect(ids(packages)).toEqual(flattenPnpmLs(tree.pnpmLs));
    expect(packages.every((p) => p.paths[0] === "srv/pnpm-lock.yaml")).toBe(true);
  });

  it("reads pnpm's installed store (node_modules/.pnpm) as pnpm ls does, dev marked from pnpm-lock.yaml as --prod leaves out", async () => {
    const { packages } = await inventory(await dirAsEntries(tree.pnpmDir, "srv/"));
    expect(ids(packages)).toEqual(flattenPnpmLs(tree.pnpmLs));
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenPnpmLs(tree.pnpmLsProd));
    // the installed tree is the truth: the pnpm-lock.yaml beside it adds nothing
    for (const p of packages) expect(p.paths.every((x) => x.includes("node_modules/"))).toBe(true);
  });

  it("reads yarn.lock v1 as npm resolved the same manifest (yarn list prints an alias under its alias)", async () => {
    const entries = await dirAsEntries(tree.yarnDir, "srv/", (rel) => !rel.startsWith("node_modules"));
    const { packages } = await inventory(entries);
    expect(ids(packages)).toEqual(flattenNpmLs(tree.ls));
  });

  it("marks yarn.lock's dev dependencies from the project's package.json beside it, as npm ls --omit=dev does", async () => {
    const entries = await dirAsEntries(tree.yarnDir, "srv/", (rel) => !rel.startsWith("node_modules"));
    const { packages } = await inventory(entries);
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(tree.lsProd));
    // yarn.lock alone does not say dev: without the package.json nothing is marked
    const alone = await inventory(entries.filter((e) => e.name !== "srv/package.json"));
    expect(alone.packages.filter((p) => p.dev)).toEqual([]);
  });

  it("marks the dev dependencies of a tree yarn installed (no hidden lockfile) from its yarn.lock", async () => {
    const entries = await dirAsEntries(tree.yarnDir, "srv/");
    expect(entries.some((e) => e.name.endsWith(".package-lock.json"))).toBe(false);
    const { packages } = await inventory(entries);
    expect(packages.every((p) => p.paths.every((x) => x.includes("node_modules/")))).toBe(true);
    expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(tree.lsProd));
  });
});

describe("npm, hostile", () => {
  it("warns about an oversized manifest instead of parsing it, and never reads one past the walk's limit", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const out = await npmAnalyzer.analyze({ path: "node_modules/x/package.json", content: big });
    expect(out.packages ?? []).toEqual([]);
    expect(out.warnings?.[0]?.message).toMatch(/too large/);
    expect(npmAnalyzer.maxFileSize).toBeLessThan(100 * 1024 * 1024);
  });

  it("answers malformed manifests and lockfiles with warnings", async () => {
    const cases: [string, string][] = [
      ["node_modules/a/package.json", '{"name": "a", "version": '],
      ["node_modules/a/package.json", "[1, 2, 3]"],
      ["node_modules/a/package.json", '{"name": "a", "version": "git+https://x"}'],
      ["app/package-lock.json", '{"lockfileVersion": 3, "packages": {"node_modules/a": '],
      ["app/pnpm-lock.yaml", "packages:\n  /a@1.0.0: [\n"],
      ["app/yarn.lock", '__metadata:\n  version: 6\n"a@npm:1": {'],
      ["app/yarn.lock", '"a@^1":\n  resolved "x"\n'],
      ["app/node_modules/.package-lock.json", '{"packages": {"node_modules/a": {"dev": tru'],
      ["app/node_modules/.package-lock.json", '{"packages": ["node_modules/a"]}'],
    ];
    for (const [p, text] of cases) {
      const out = await npmAnalyzer.analyze({ path: p, content: Buffer.from(text) });
      expect(out.packages ?? []).toEqual([]);
      expect(out.warnings?.length, `${p}: ${text}`).toBeGreaterThan(0);
    }
  });

  it("follows yarn berry's graph (bare ranges in package.json and dependency lists, npm: in keys) from dev and production roots", async () => {
    // another project's real berry lock, split into production and dev roots by this test
    const lock = readFileSync(corpusPath("pkgdb/npm/syft/yarn-berry.lock"));
    const project = {
      dependencies: { ajv: "6.12.3", atob: "2.1.2" },
      devDependencies: { "@babel/code-frame": "7.10.4", "@types/qs": "6.9.4", "asn1.js": "4.10.1" },
    };
    const { packages } = await inventory([
      { name: "srv/yarn.lock", content: lock },
      { name: "srv/package.json", content: Buffer.from(JSON.stringify(project)) },
    ]);
    expect(ids(packages.filter((p) => p.dev))).toEqual([
      "@babel/code-frame@7.10.4",
      "@types/qs@6.9.4",
      "asn1.js@4.10.1",
    ]);
    // transitively, through a dependency list's bare range
    const berry = [
      "__metadata:\n  version: 6\n",
      '"a@npm:1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n  dependencies:\n    b: ^1.0.0\n',
      '"b@npm:^1.0.0":\n  version: 1.2.0\n  resolution: "b@npm:1.2.0"\n',
    ].join("\n");
    const chained = await inventory([
      { name: "srv/yarn.lock", content: Buffer.from(berry) },
      { name: "srv/package.json", content: Buffer.from(JSON.stringify({ devDependencies: { a: "1.0.0" } })) },
    ]);
    expect(ids(chained.packages.filter((p) => p.dev))).toEqual(["a@1.0.0", "b@1.2.0"]);
  });

  it("keeps dev marks to what the files say: a devOptional package, a dependency cycle, a manifest that is no project", async () => {
    const hidden = {
      packages: {
        "node_modules/a": { version: "1.0.0", dev: true },
        // also an optional dependency of a production package: a production install keeps it
        "node_modules/b": { version: "1.0.0", devOptional: true },
      },
    };
    const manifest = (name: string) => ({
      name: `app/node_modules/${name}/package.json`,
      content: Buffer.from(JSON.stringify({ name, version: "1.0.0" })),
    });
    const { packages } = await inventory([
      { name: "app/node_modules/.package-lock.json", content: Buffer.from(JSON.stringify(hidden)) },
      manifest("a"),
      manifest("b"),
      manifest("c"),
    ]);
    expect(packages.filter((p) => p.dev).map((p) => p.name)).toEqual(["a"]);
    // yarn dependencies that loop back on themselves end; a project package.json that is not an object is no project
    const cycle =
      'x@^1:\n  version "1.0.0"\n  dependencies:\n    y "^1"\n\ny@^1:\n  version "1.0.0"\n  dependencies:\n    x "^1"\n';
    const project = JSON.stringify({ devDependencies: { x: "^1" } });
    const yarn = await inventory([
      { name: "srv/yarn.lock", content: Buffer.from(cycle) },
      { name: "srv/package.json", content: Buffer.from(project) },
      { name: "other/package.json", content: Buffer.from("[1") },
    ]);
    expect(ids(yarn.packages.filter((p) => p.dev))).toEqual(["x@1.0.0", "y@1.0.0"]);
    expect(yarn.warnings.map((w) => w.code)).toEqual(["os-unknown"]);
  });

  it("bounds a lockfile that nests dependencies without end", () => {
    let deps: unknown = { version: "1.0.0" };
    for (let i = 0; i < 5000; i++) deps = { version: "1.0.0", dependencies: { a: deps } };
    const read = readPackageLock({ lockfileVersion: 1, dependencies: { a: deps } });
    expect(read.packages.length).toBe(256);
    expect(read.problems[0]).toMatch(/deeper than 256/);
  });

  it("refuses a YAML alias bomb", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${"b".repeat(i)}: &${"b".repeat(i)} [${Array(9)
          .fill(`*${i === 1 ? "a" : "b".repeat(i - 1)}`)
          .join(",")}]`,
      );
    const bomb = `lockfileVersion: '9.0'\n${lines.join("\n")}\npackages:\n  a@1.0.0: {}\n`;
    const read = readPnpmLock(bomb);
    expect(read.packages).toEqual([]);
    expect(read.problems[0]).toMatch(/not YAML/);
  });

  it("selects installed manifests and project lockfiles only", () => {
    for (const p of [
      "node_modules/a/package.json",
      "app/node_modules/@s/b/package.json",
      "x/package-lock.json",
      "yarn.lock",
      // what tells dev apart: npm's hidden lockfile, a project's own manifest
      "node_modules/.package-lock.json",
      "app/package.json",
      // Debian's node-* packages
      "usr/share/nodejs/ms/package.json",
      "usr/share/nodejs/@types/ms/package.json",
      "usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json",
    ]) {
      expect(npmAnalyzer.required(p)).toBe(true);
    }
    for (const p of [
      "node_modules/a/lib/package.json",
      "node_modules/.bin/package.json",
      "node_modules/a/package-lock.json",
      "node_modules/a/test/package.json",
    ]) {
      expect(npmAnalyzer.required(p)).toBe(false);
    }
  });
});

describe("npm, a tree with no lockfile: dev told from the project's package.json, as npm does", () => {
  // npm ls computes dev from the installed tree when no lockfile tells it; it exits 1 on problems
  // (an extraneous package) and still prints the tree
  const npmLs = (dir: string, ...extra: string[]) => {
    const args = ["ls", "--json", "--all", "--long", "--offline", ...extra];
    try {
      return JSON.parse(
        execFileSync("npm", args, { cwd: dir, encoding: "utf8", stdio: "pipe" }),
      ) as NpmLsNode;
    } catch (err) {
      return JSON.parse((err as { stdout: string }).stdout) as NpmLsNode;
    }
  };
  const withoutLockfiles = (rel: string) =>
    rel !== "package-lock.json" && rel !== "node_modules/.package-lock.json";
  const manifests = (files: Record<string, object>): Entry[] =>
    Object.entries(files).map(([name, json]) => ({ name, content: Buffer.from(JSON.stringify(json)) }));

  it("marks dev in a real npm tree whose hidden lockfile and package-lock.json are gone, as npm ls --omit=dev does", async () => {
    const copy = mkdtempSync(path.join(tmpdir(), "portcullis-npm-nolock-"));
    try {
      execFileSync("cp", ["-r", `${tree.dir}/.`, copy]);
      rmSync(path.join(copy, "package-lock.json"));
      rmSync(path.join(copy, "node_modules/.package-lock.json"));
      const prod = flattenNpmLs(npmLs(copy, "--omit=dev"));
      // npm computes the same production set from the bare tree as it did from its lockfile
      expect(prod).toEqual(flattenNpmLs(tree.lsProd));
      const { packages } = await inventory(await dirAsEntries(copy, "app/", withoutLockfiles));
      expect(ids(packages)).toEqual(flattenNpmLs(npmLs(copy)));
      expect(ids(packages.filter((p) => !p.dev))).toEqual(prod);
      expect(ids(packages.filter((p) => p.dev))).toEqual(["is-number@7.0.0"]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  it("follows Node's resolution through a cycle, a nested copy that shadows a hoisted one and an optional dependency, as npm ls --omit=dev does", async () => {
    const files = {
      "package.json": {
        name: "app",
        version: "1.0.0",
        dependencies: { p: "*" },
        devDependencies: { d: "*" },
      },
      // p and q need each other: a cycle reached from production
      "node_modules/p/package.json": { name: "p", version: "1.0.0", dependencies: { q: "*" } },
      "node_modules/q/package.json": { name: "q", version: "1.0.0", peerDependencies: { p: "*" } },
      // d finds its own q@2 before the hoisted q@1
      "node_modules/d/package.json": { name: "d", version: "1.0.0", dependencies: { q: "*", e: "*" } },
      "node_modules/d/node_modules/q/package.json": { name: "q", version: "2.0.0" },
      "node_modules/e/package.json": { name: "e", version: "1.0.0", optionalDependencies: { f: "*" } },
      "node_modules/e/node_modules/f/package.json": { name: "f", version: "1.0.0" },
      // nothing needs f@2: extraneous, neither production nor dev
      "node_modules/f/package.json": { name: "f", version: "2.0.0" },
    };
    const dir = mkdtempSync(path.join(tmpdir(), "portcullis-npm-graph-"));
    try {
      writeJsonFiles(dir, files);
      const { packages, warnings } = await inventory(await dirAsEntries(dir, "srv/"));
      expect(warnings.map((w) => w.code)).toEqual(["os-unknown"]);
      expect(ids(packages)).toEqual(flattenNpmLs(npmLs(dir)));
      expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(npmLs(dir, "--omit=dev")));
      expect(ids(packages.filter((p) => p.dev))).toEqual(["d@1.0.0", "e@1.0.0", "f@1.0.0", "q@2.0.0"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("takes a workspace's dependencies as production and its devDependencies as dev, as npm ls --omit=dev does", async () => {
    const files = {
      "package.json": {
        name: "app",
        version: "1.0.0",
        workspaces: ["packages/*"],
        devDependencies: { x: "*", z: "*" },
      },
      // x is the root's devDependency and the workspace's dependency: production
      "packages/w/package.json": {
        name: "w",
        version: "1.0.0",
        dependencies: { x: "*", v: "*" },
        devDependencies: { y: "*" },
      },
      "packages/w/node_modules/v/package.json": { name: "v", version: "2.0.0" },
      "node_modules/x/package.json": { name: "x", version: "1.0.0" },
      "node_modules/y/package.json": { name: "y", version: "1.0.0" },
      "node_modules/z/package.json": { name: "z", version: "1.0.0" },
      "node_modules/v/package.json": { name: "v", version: "1.0.0" },
    };
    const dir = mkdtempSync(path.join(tmpdir(), "portcullis-npm-ws-"));
    try {
      writeJsonFiles(dir, files);
      symlinkSync("../packages/w", path.join(dir, "node_modules/w"));
      const { packages } = await inventory(await dirAsEntries(dir, "srv/"));
      expect(ids(packages)).toEqual(flattenNpmLs(npmLs(dir)));
      expect(ids(packages.filter((p) => !p.dev))).toEqual(flattenNpmLs(npmLs(dir, "--omit=dev")));
      expect(ids(packages.filter((p) => p.dev))).toEqual(["y@1.0.0", "z@1.0.0"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("walks nothing through a dependencies field that is not an object, and marks nothing without the project's package.json", async () => {
    const tree = manifests({
      "app/package.json": { dependencies: { a: "1" }, devDependencies: { b: "1" } },
      "app/node_modules/a/package.json": { name: "a", version: "1.0.0", dependencies: ["c"] },
      "app/node_modules/b/package.json": {
        name: "b",
        version: "1.0.0",
        dependencies: "c",
        peerDependencies: null,
      },
      "app/node_modules/c/package.json": { name: "c", version: "1.0.0" },
    });
    const { packages, warnings } = await inventory(tree);
    expect(warnings.map((w) => w.code)).toEqual(["os-unknown"]);
    // c is reached by neither (the lists are no objects): extraneous, not dev
    expect(ids(packages.filter((p) => p.dev))).toEqual(["b@1.0.0"]);
    const bare = await inventory(tree.filter((e) => e.name !== "app/package.json"));
    expect(ids(bare.packages)).toEqual(["a@1.0.0", "b@1.0.0", "c@1.0.0"]);
    expect(bare.packages.filter((p) => p.dev)).toEqual([]);
    // workspaces that are no list, and a glob of stars against a long path, name no workspace and end
    const odd = await inventory([
      ...tree.slice(1),
      {
        name: "app/package.json",
        content: JSON.stringify({
          devDependencies: { b: "1" },
          workspaces: { packages: [`${"**/".repeat(20)}!`, 7, "packages/*"] },
        }),
      },
      { name: `app/${"a/".repeat(200)}package.json`, content: JSON.stringify({ dependencies: { c: "1" } }) },
      { name: "app/packages/w/package.json", content: JSON.stringify({ dependencies: { b: "1" } }) },
    ]);
    // the one real glob names packages/w, whose dependency b is production
    expect(odd.packages.filter((p) => p.dev)).toEqual([]);
    const notList = await inventory([
      ...tree.slice(1),
      {
        name: "app/package.json",
        content: JSON.stringify({ devDependencies: { b: "1" }, workspaces: "packages/*" }),
      },
      { name: "app/packages/w/package.json", content: JSON.stringify({ dependencies: { b: "1" } }) },
    ]);
    expect(ids(notList.packages.filter((p) => p.dev))).toEqual(["b@1.0.0"]);
    // a project package.json that is no JSON object is no project either
    const broken = await inventory([...tree.slice(1), { name: "app/package.json", content: "[1" }]);
    expect(broken.packages.filter((p) => p.dev)).toEqual([]);
  });

  it("leaves the hidden lockfile's answer alone when it is there, inside its tree too", async () => {
    const tree = manifests({
      "app/package.json": { devDependencies: { a: "1" } },
      "app/node_modules/a/package.json": { name: "a", version: "1.0.0" },
      "app/node_modules/.package-lock.json": {
        packages: {
          "node_modules/a": { version: "1.0.0" },
          "packages/w/node_modules/b": { version: "1.0.0" },
        },
      },
      // a workspace's own node_modules: the root's hidden lockfile speaks for it
      "app/packages/w/package.json": { name: "w", devDependencies: { b: "1" } },
      "app/packages/w/node_modules/b/package.json": { name: "b", version: "1.0.0" },
    });
    const { packages } = await inventory(tree);
    expect(ids(packages)).toEqual(["a@1.0.0", "b@1.0.0"]);
    expect(packages.filter((p) => p.dev)).toEqual([]);
    // without the hidden lockfile, each tree's own package.json tells
    const bare = await inventory(tree.filter((e) => !e.name.endsWith(".package-lock.json")));
    expect(ids(bare.packages.filter((p) => p.dev))).toEqual(["a@1.0.0", "b@1.0.0"]);
  });

  it("walks a tree nested a thousand deep, and a dev chain through it, without overflowing", async () => {
    const depth = 1000;
    const files: Record<string, object> = {
      "app/package.json": { dependencies: { top: "1" }, devDependencies: { n0: "1" } },
      "app/node_modules/top/package.json": { name: "top", version: "1.0.0" },
    };
    let dir = "app";
    for (let i = 0; i < depth; i++) {
      dir = `${dir}/node_modules/n${i}`;
      // each one needs the next, nested inside it, and the production top found at the root
      files[`${dir}/package.json`] = {
        name: `n${i}`,
        version: "1.0.0",
        dependencies: { [`n${i + 1}`]: "1", top: "1" },
      };
    }
    const { packages } = await inventory(manifests(files));
    expect(packages.length).toBe(depth + 1);
    expect(packages.filter((p) => p.dev).length).toBe(depth);
    expect(packages.find((p) => p.name === "top")?.dev).toBeUndefined();
  }, 120_000);
});
