import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import type { PackageRecord } from "../../../shared/analysis/analyzer.js";
import { pypiAnalyzer } from "../../../shared/analysis/pypi/pypi-analyzer.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { corpusPath } from "../../support/corpus.js";
import { buildPoetryProject, type PoetryProject } from "../../support/poetry-project.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

/** Python's own reading (importlib.metadata, packaging, tomllib) of the same files, PEP 503 names. */
function python(script: string, ...args: string[]): string[] {
  const prelude = "import sys, json\nfrom packaging.utils import canonicalize_name as c\n";
  const out = execFileSync("python3", ["-c", prelude + script, ...args]).toString();
  return [...new Set(JSON.parse(out) as string[])].sort();
}

const DISTRIBUTIONS = `
import importlib.metadata as m
print(json.dumps([f"{c(d.metadata['Name'])}@{d.version}" for d in m.distributions(path=sys.argv[1:])]))`;

/** Every file under `dir` that the analyzer selects, analysed as the layer walk would hand it over. */
async function analyzeTree(dir: string, prefix: string, keep: (file: string) => boolean = () => true) {
  const packages: PackageRecord[] = [];
  const warnings: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, child);
      if (statSync(full).isDirectory()) await walk(child);
      else if (keep(child) && pypiAnalyzer.required(`${prefix}${child}`)) {
        const out = await pypiAnalyzer.analyze({ path: `${prefix}${child}`, content: readFileSync(full) });
        packages.push(...(out.packages ?? []));
        warnings.push(...(out.warnings ?? []).map((w) => w.message));
      }
    }
  };
  await walk("");
  return { packages, warnings };
}
const ids = (packages: { name: string; version: string }[]) =>
  [...new Set(packages.map((p) => `${p.name}@${p.version}`))].sort();

describe("PyPI, installed distributions", () => {
  it("reads Debian's python3-* packages (dist-info and egg-info) as importlib.metadata does", async () => {
    const dir = "/usr/lib/python3/dist-packages";
    const expected = python(DISTRIBUTIONS, dir);
    // python3-six (egg-info) and python3-yaml (dist-info) are in .ci/run's tool list
    expect(expected).toEqual(expect.arrayContaining(["six@1.16.0", expect.stringMatching(/^pyyaml@/)]));
    const { packages } = await analyzeTree(dir, "usr/lib/python3/dist-packages/");
    expect(ids(packages)).toEqual(expected);
    expect(packages.every((p) => p.ecosystem === "PyPI")).toBe(true);
  });

  it("reads syft's site-packages and egg-info file as importlib.metadata does", async () => {
    const root = corpusPath("pkgdb/python/syft");
    const expected = python(DISTRIBUTIONS, path.join(root, "site-packages"), root);
    const metadata = (f: string) => /(?:METADATA|PKG-INFO|\.egg-info)$/.test(f);
    const installed = (await analyzeTree(root, "app/", metadata)).packages;
    expect(ids(installed)).toEqual(expected);
  });
});

describe("PyPI, project lockfiles", () => {
  const file = (name: string) => corpusPath("pkgdb/python/syft", name);
  const analyze = async (name: string) => {
    const out = await pypiAnalyzer.analyze({ path: `app/${name}`, content: readFileSync(file(name)) });
    // production packages: dev ones (poetry's category, Pipfile's develop) are checked on their own
    return { ids: ids((out.packages ?? []).filter((p) => !p.dev)), warnings: out.warnings ?? [] };
  };

  it("takes exactly the pinned requirements that packaging's PEP 508 parser reads as ==", async () => {
    const expected = python(
      `
import re
from packaging.requirements import Requirement
text = re.sub(r"\\\\\\r?\\n", " ", open(sys.argv[1]).read())
out = []
for line in text.splitlines():
    line = re.sub(r"(^|\\s)#.*$", "", line)
    line = re.sub(r"\\s--hash[=\\s]\\S+", "", line).strip()
    if not line or line.startswith("-"): continue
    try: r = Requirement(line)
    except Exception: continue
    specs = list(r.specifier)
    if r.url is None and len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        out.append(f"{c(r.name)}@{specs[0].version}")
print(json.dumps(out))`,
      file("requirements.txt"),
    );
    expect(expected.length).toBeGreaterThan(5);
    expect((await analyze("requirements.txt")).ids).toEqual(expected);
  });

  for (const name of ["poetry.lock", "uv.lock"]) {
    it(`reads ${name} as tomllib does`, async () => {
      const expected = python(
        `
import tomllib
doc = tomllib.load(open(sys.argv[1], "rb"))
print(json.dumps([f"{c(p['name'])}@{p['version']}" for p in doc.get("package", [])
  if p.get("category") != "dev" and not {"virtual", "editable"} & set(p.get("source", {}))]))`,
        file(name),
      );
      const read = await analyze(name);
      expect(read.warnings).toEqual([]);
      expect(read.ids).toEqual(expected);
    });
  }

  it("reads Pipfile.lock's default section, and its develop section marked dev", async () => {
    const section = (name: string) =>
      python(
        `
doc = json.load(open(sys.argv[1]))
print(json.dumps([f"{c(n)}@{e['version'].lstrip('=')}" for n, e in doc.get("${name}", {}).items() if "version" in e]))`,
        file("Pipfile.lock"),
      );
    const out = await pypiAnalyzer.analyze({
      path: "app/Pipfile.lock",
      content: readFileSync(file("Pipfile.lock")),
    });
    const idsOf = (dev: boolean) =>
      (out.packages ?? [])
        .filter((p) => Boolean(p.dev) === dev)
        .map((p) => `${p.name}@${p.version}`)
        .sort();
    expect(idsOf(false)).toEqual(section("default"));
    expect(idsOf(true)).toEqual(section("develop"));
  });
});

describe("PyPI, hostile", () => {
  it("answers garbage, truncation and missing headers with a warning", async () => {
    const cases: [string, Buffer][] = [
      ["x/site-packages/a-1.dist-info/METADATA", Buffer.from("Metadata-Version: 2.1\nName: a\n")],
      ["x/site-packages/a-1.dist-info/METADATA", Buffer.from([0xff, 0xfe, 0, 1, 2, 3])],
      ["x/site-packages/a.egg-info", Buffer.from("Name: a\nVersion: not a version\n")],
      ["app/poetry.lock", Buffer.from('[[package]]\nname = "a"\nversion = ')],
      ["app/Pipfile.lock", Buffer.from('{"default": {"a": ')],
      ["app/uv.lock", Buffer.from(`${"[".repeat(10000)}`)],
    ];
    for (const [p, content] of cases) {
      const out = await pypiAnalyzer.analyze({ path: p, content });
      expect(out.packages ?? []).toEqual([]);
      expect(out.warnings?.length, p).toBeGreaterThan(0);
    }
  });

  it("reads only the header block of an oversized METADATA", async () => {
    const header = Buffer.from("Metadata-Version: 2.1\nName: Big_Pkg\nVersion: 1.0\n\n");
    const content = Buffer.concat([header, Buffer.alloc(20 * 1024 * 1024, 0x61)]);
    const out = await pypiAnalyzer.analyze({ path: "x/dist-packages/big-1.0.dist-info/METADATA", content });
    expect(out.packages?.map((p) => `${p.name}@${p.version}`)).toEqual(["big-pkg@1.0"]);
  });

  it("selects installed metadata and project files, not an installed package's own requirements", () => {
    for (const p of [
      "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
      "a/b.dist-info/METADATA",
      "app/requirements-dev.txt",
    ]) {
      expect(pypiAnalyzer.required(p)).toBe(true);
    }
    for (const p of ["a/b.dist-info/RECORD", "x/site-packages/foo/requirements.txt", "app/requirements.in"]) {
      expect(pypiAnalyzer.required(p)).toBe(false);
    }
  });
});

describe("PyPI, poetry dependency groups (a real Poetry 2 lock)", () => {
  let project: PoetryProject;
  beforeAll(async () => {
    project = await buildPoetryProject();
  }, 30 * 60_000);

  async function inventory(entries: Entry[]) {
    const blob = await layerBlob(entries);
    const analyzers = [pypiAnalyzer];
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS });
    return squashLayers([report], { analyzers });
  }
  const lockText = () => readFileSync(project.lock, "utf8");
  const files = (lock: string, withPyproject = true): Entry[] => [
    { name: "srv/app/poetry.lock", content: Buffer.from(lock) },
    ...(withPyproject ? [{ name: "srv/app/pyproject.toml", content: readFileSync(project.pyproject) }] : []),
  ];

  it("marks dev what poetry show --only main leaves out, from the lock's groups alone", async () => {
    expect(lockText()).toMatch(/^groups = /m);
    const { packages } = await inventory(files(lockText(), false));
    expect(ids(packages)).toEqual(project.all);
    expect(ids(packages.filter((p) => !p.dev))).toEqual(project.main);
  });

  it("marks dev from the pyproject.toml's groups when the lock has no groups (poetry 1.5–1.8)", async () => {
    // the same lock as Poetry 1.5–1.8 writes it: no per-package groups, no category
    const ungrouped = lockText().replace(/^groups = .*\n/gm, "");
    expect(ungrouped).not.toMatch(/^(?:groups|category) = /m);
    const { packages } = await inventory(files(ungrouped));
    expect(ids(packages.filter((p) => !p.dev))).toEqual(project.main);
    expect(ids(packages)).toEqual(project.all);
    // without the pyproject.toml nothing tells dev apart: nothing is marked
    const alone = await inventory(files(ungrouped, false));
    expect(alone.packages.filter((p) => p.dev)).toEqual([]);
  });

  it("answers a malformed pyproject.toml with a warning, and ends on a dependency cycle", async () => {
    const bad = await pypiAnalyzer.analyze({
      path: "app/pyproject.toml",
      content: Buffer.from("[tool.poetry\n"),
    });
    expect(bad.warnings?.[0]?.message).toMatch(/not TOML/);
    const cycle = [
      '[[package]]\nname = "a"\nversion = "1.0"\n[package.dependencies]\nb = "*"\n',
      '[[package]]\nname = "b"\nversion = "1.0"\n[package.dependencies]\na = "*"\n',
    ].join("\n");
    const pyproject = '[tool.poetry.group.dev.dependencies]\na = "*"\n';
    const { packages } = await inventory([
      { name: "app/poetry.lock", content: Buffer.from(cycle) },
      { name: "app/pyproject.toml", content: Buffer.from(pyproject) },
    ]);
    expect(ids(packages.filter((p) => p.dev))).toEqual(["a@1.0", "b@1.0"]);
  });
});
