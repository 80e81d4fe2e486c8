import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { readCoreMetadata } from "./core-metadata.js";
import { markPoetryDev, type PypiData, readPyproject, squashPypi } from "./poetry-groups.js";
import { type PythonRead, readPackageTables, readPipfileLock, readRequirements } from "./python-lockfiles.js";
import { pythonRecord } from "./python-package.js";
import { excerpt } from "../excerpt.js";

const INSTALLED = /(?:^|\/)[^/]+\.(?:dist-info\/METADATA|egg-info\/PKG-INFO|egg-info)$/;
const REQUIREMENTS = /^requirements[\w.-]*\.txt$/;
const INSTALLED_TREE = /(?:site|dist)-packages\//;
const LOCKFILES = new Set(["poetry.lock", "Pipfile.lock", "uv.lock"]);
// metadata headers come first; a description this large is never read past them
const MAX_METADATA = 8 * 1024 * 1024;

const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const hasInstalledName = (path: string) =>
  path.endsWith("/METADATA") || path.endsWith("/PKG-INFO") || path.endsWith(".egg-info");

/** `pkg:pypi/<pep-503-name>@<version>`, in the `PyPI` ecosystem. */
export const identifyPypiPackage = languageIdentity({ type: "pypi", ecosystem: "PyPI" });

/**
 * Python packages: installed distributions (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or an
 * `*.egg-info` file) wherever they sit, and a project's `poetry.lock`, `uv.lock`, `Pipfile.lock`
 * and pinned `requirements*.txt`. Names are PEP 503-normalized.
 */
export const pypiAnalyzer: Analyzer = {
  name: "pypi",
  version: 3,
  maxFileSize: 32 * 1024 * 1024,
  // METADATA and PKG-INFO, *.egg-info, lockfiles, pyproject.toml, requirements*.txt
  extensions: ["", "egg-info", "lock", "toml", "txt"],
  required(path) {
    // asked of every path of every layer: the name's ending first, a regex only where it can match
    if (hasInstalledName(path)) return INSTALLED.test(path);
    if (path.endsWith(".lock")) return LOCKFILES.has(basename(path));
    // a project's groups say which of an unmarked poetry.lock's packages are dev
    if (path.endsWith("pyproject.toml"))
      return basename(path) === "pyproject.toml" && !INSTALLED_TREE.test(path);
    // an installed package's own requirements files are not what the image installed
    return path.endsWith(".txt") && REQUIREMENTS.test(basename(path)) && !INSTALLED_TREE.test(path);
  },
  analyze({ path, content }): AnalyzerOutput {
    if (basename(path) === "pyproject.toml") return analyzePyproject(path, content);
    const read = INSTALLED.test(path) ? readInstalled(content) : readProjectFile(basename(path), content);
    const data: PypiData | undefined =
      basename(path) === "poetry.lock" && read.graph ? { poetryGraph: read.graph } : undefined;
    return {
      packages: read.packages,
      ...(data ? { data } : {}),
      warnings: toWarnings(path, read.problems),
    };
  },
  identify: identifyPypiPackage,
  squash: squashPypi,
  annotate: markPoetryDev,
};

const toWarnings = (path: string, problems: readonly string[]) =>
  problems.map((p) => ({ code: "pypi-metadata-unreadable", message: `${path}: ${excerpt(p)}`, path }));

function analyzePyproject(path: string, content: Buffer): AnalyzerOutput {
  const read = readPyproject(content.toString("utf8"));
  if (typeof read === "string") return { warnings: toWarnings(path, [read]) };
  const data: PypiData = { pyproject: read };
  return { data };
}

function readInstalled(content: Buffer): PythonRead & { graph?: undefined } {
  const head = content.subarray(0, MAX_METADATA).toString("utf8");
  const { name, version } = readCoreMetadata(head);
  const record = pythonRecord(name, version);
  if (record) return { packages: [record], problems: [] };
  return { packages: [], problems: [`no Name and Version headers (${String(name)} ${String(version)})`] };
}

function readProjectFile(base: string, content: Buffer): PythonRead & { graph?: Record<string, string[]> } {
  const text = content.toString("utf8");
  if (base === "Pipfile.lock") return readPipfileLock(text);
  if (LOCKFILES.has(base)) return readPackageTables(text);
  return readRequirements(text);
}
