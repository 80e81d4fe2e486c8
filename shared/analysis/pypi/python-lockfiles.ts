import { parse as parseToml } from "smol-toml";
import type { PackageRecord } from "../analyzer.js";
import { pep503Name } from "../../model/package-name.js";
import { pythonRecord } from "./python-package.js";

export interface PythonRead {
  packages: PackageRecord[];
  problems: string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * poetry.lock and uv.lock: `[[package]]` tables with `name` and `version`; poetry ≤ 1.4 marks dev
 * ones (`category`), poetry ≥ 2 lists each package's `groups` (dev: not in `main`); a poetry.lock
 * that does neither (1.5–1.8) hands back its dependency graph, for the pyproject.toml beside it.
 */
export function readPackageTables(text: string): PythonRead & { graph?: Record<string, string[]> } {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (err) {
    return { packages: [], problems: [`not TOML (${(err as Error).message.split("\n")[0]})`] };
  }
  const tables = Array.isArray(doc.package) ? doc.package : [];
  const packages: PackageRecord[] = [];
  const problems: string[] = [];
  const graph: Record<string, string[]> = {};
  let marked = false;
  for (const t of tables) {
    if (!isTable(t)) continue;
    // uv lists the project itself (and workspace members) with a virtual or editable source
    const source = isTable(t.source) ? t.source : undefined;
    if (source && ("virtual" in source || "editable" in source)) continue;
    const record = pythonRecord(t.name, t.version);
    if (!record) {
      problems.push(`package ${String(t.name)} ${String(t.version)} is not a name and version`);
      continue;
    }
    const groups = Array.isArray(t.groups) ? t.groups : undefined;
    if (groups || typeof t.category === "string") marked = true;
    const dev = t.category === "dev" || (groups !== undefined && !groups.includes("main"));
    packages.push(dev ? { ...record, dev: true } : record);
    if (isTable(t.dependencies)) graph[record.name] = Object.keys(t.dependencies).map(pep503Name);
  }
  return { packages, problems, ...(marked ? {} : { graph }) };
}

/** Pipfile.lock: `default` holds what a deployment installs, `develop` the dev packages (marked), each `"==1.2.3"`. */
export function readPipfileLock(text: string): PythonRead {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { packages: [], problems: [`not JSON (${(err as Error).message})`] };
  }
  if (!isTable(doc) || !isTable(doc.default)) return { packages: [], problems: ["no `default` section"] };
  const packages: PackageRecord[] = [];
  const problems: string[] = [];
  const sections: [unknown, boolean][] = [
    [doc.default, false],
    [doc.develop, true],
  ];
  for (const [section, dev] of sections) {
    if (!isTable(section)) continue;
    for (const [name, entry] of Object.entries(section)) {
      const version = isTable(entry) && typeof entry.version === "string" ? entry.version : undefined;
      // git and path dependencies carry no version pin
      if (version === undefined) continue;
      const record = pythonRecord(name, version.replace(/^===?/, ""));
      if (record) packages.push(dev ? { ...record, dev } : record);
      else problems.push(`${name} ${version} is not a pinned version`);
    }
  }
  return { packages, problems };
}

// `name[extras] == 1.2.3` with nothing after but an environment marker or hash options
const PIN =
  /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,*]+)\s*(?:;.*)?$/;

/** requirements*.txt: only exact pins (`==`, `===`) name a version; ranges, options and URLs do not. */
export function readRequirements(text: string): PythonRead {
  const packages: PackageRecord[] = [];
  // a trailing backslash continues the requirement on the next line
  const logical = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const raw of logical) {
    const line = raw
      .replace(/(^|\s)#.*$/, "")
      .replace(/\s--hash[=\s]\S+/g, "")
      .trim();
    if (line === "" || line.startsWith("-")) continue;
    const m = PIN.exec(line);
    const record = m ? pythonRecord(m[1], m[2]) : undefined;
    if (record) packages.push(record);
  }
  return { packages, problems: [] };
}
