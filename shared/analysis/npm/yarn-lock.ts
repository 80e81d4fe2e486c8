import { parse } from "yaml";
import {
  MAX_LOCK_PACKAGES,
  type NpmPackage,
  type NpmRead,
  npmPackage,
  packageId,
  type ProjectManifest,
} from "./npm-record.js";

/** `"@scope/name@npm:real@^1"` or `name@^1.0.0` → the registry name the descriptor resolves to. */
function descriptorName(descriptor: string): string | undefined {
  const at = descriptor.indexOf("@", 1);
  if (at < 0) return undefined;
  const name = descriptor.slice(0, at);
  const range = descriptor.slice(at + 1);
  if (range.startsWith("npm:")) {
    // an alias: `npm:real@^1`, or berry's plain `npm:^1`
    const target = range.slice(4);
    const inner = target.indexOf("@", 1);
    if (inner > 0) return target.slice(0, inner);
  }
  return name;
}

const unquote = (s: string) => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** One yarn.lock entry: the descriptors it resolves, what it installed, and the descriptors it depends on. */
export interface YarnEntry {
  descriptors: string[];
  /** absent for workspaces, links and other non-registry resolutions */
  package?: NpmPackage;
  dependencies: string[];
}

/** What a yarn.lock reader hands back: its packages, and the graph that tells dev from production. */
export interface YarnRead extends NpmRead {
  entries: YarnEntry[];
  berry: boolean;
}

/** yarn.lock, classic (v1, its own format) or berry (v2+, YAML with `__metadata`). */
export function readYarnLock(text: string): YarnRead {
  return /^__metadata:/m.test(text) ? readBerry(text) : readClassic(text);
}

function readClassic(text: string): YarnRead {
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  const entries: YarnEntry[] = [];
  let current: (YarnEntry & { name?: string; line: number; inDeps: boolean }) | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith(" ")) {
      if (current && !current.package) problems.push(`line ${current.line}: entry has no version`);
      const descriptors = line
        .replace(/:$/, "")
        .split(",")
        .map((d) => unquote(d.trim()));
      current = {
        descriptors,
        dependencies: [],
        name: descriptorName(descriptors[0]!),
        line: i + 1,
        inDeps: false,
      };
      entries.push(current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith("  ") && !line.startsWith("   ")) {
      // a 2-space key: version, resolved, or the start of a dependency block
      current.inDeps = /^ {2}(?:dependencies|optionalDependencies):$/.test(line);
      const m = /^ {2}version:? "?([^"]*)"?$/.exec(line);
      if (!m || current.package) continue;
      const pkg = npmPackage(current.name, m[1]);
      if (pkg) {
        current.package = pkg;
        packages.push(pkg);
      } else problems.push(`line ${i + 1}: ${String(current.name)}@${m[1]} is not a registry package`);
      if (packages.length >= MAX_LOCK_PACKAGES) {
        problems.push(`more than ${MAX_LOCK_PACKAGES} packages; the rest were not read`);
        break;
      }
      continue;
    }
    const dep = current.inDeps ? /^ {4}("[^"]+"|\S+) "?([^"]*)"?$/.exec(line) : null;
    if (dep) current.dependencies.push(`${unquote(dep[1]!)}@${dep[2]}`);
  }
  if (current && !current.package) problems.push(`line ${current.line}: entry has no version`);
  return {
    packages,
    problems,
    entries: entries.map(({ descriptors, package: p, dependencies }) => ({
      descriptors,
      ...(p ? { package: p } : {}),
      dependencies,
    })),
    berry: false,
  };
}

function readBerry(text: string): YarnRead {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    const problems = [`not YAML (${(err as Error).message.split("\n")[0]})`];
    return { packages: [], problems, entries: [], berry: true };
  }
  if (typeof doc !== "object" || doc === null)
    return { packages: [], problems: ["not a YAML mapping"], entries: [], berry: true };
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  const entries: YarnEntry[] = [];
  for (const [key, entry] of Object.entries(doc as Record<string, unknown>)) {
    if (key === "__metadata" || typeof entry !== "object" || entry === null) continue;
    const { version, resolution, dependencies, optionalDependencies } = entry as Record<string, unknown>;
    const descriptors = key.split(",").map((d) => d.trim());
    const depends = Object.entries({ ...asRecord(dependencies), ...asRecord(optionalDependencies) })
      .filter((d): d is [string, string] => typeof d[1] === "string")
      // berry keys a bare range as `npm:<range>` but writes it bare in a dependency list
      .map(([name, range]) => `${name}@${/^[a-z]+:/.test(range) ? range : `npm:${range}`}`);
    // the resolution names what was installed: workspaces, links and patches are not registry packages
    const resolved = typeof resolution === "string" ? resolution : descriptors[0]!;
    const at = resolved.indexOf("@", 1);
    const registry = at > 0 && resolved.slice(at + 1).startsWith("npm:");
    const pkg = registry ? npmPackage(resolved.slice(0, at), version) : undefined;
    entries.push({ descriptors, ...(pkg ? { package: pkg } : {}), dependencies: depends });
    if (!registry) continue;
    if (pkg) packages.push(pkg);
    else problems.push(`${key}: no registry version`);
    if (packages.length >= MAX_LOCK_PACKAGES) break;
  }
  return { packages, problems, entries, berry: true };
}

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * The name@version of every package that only the project's devDependencies reach through the
 * lockfile's graph (yarn.lock alone does not say dev: the project's package.json does). A package
 * no root reaches stays production: the safe side.
 */
export function yarnDevPackages(read: YarnRead, project: ProjectManifest): Set<string> {
  const byDescriptor = new Map<string, YarnEntry>();
  for (const e of read.entries) for (const d of e.descriptors) byDescriptor.set(d, e);
  // berry writes a bare range as `npm:<range>`; classic keeps what package.json says
  const descriptor = (name: string, range: string) =>
    read.berry && !/^[a-z]+:/.test(range) ? `${name}@npm:${range}` : `${name}@${range}`;
  const reach = (roots: Record<string, string>): Set<YarnEntry> => {
    const seen = new Set<YarnEntry>();
    const stack = Object.entries(roots).map(([n, r]) => descriptor(n, r));
    while (stack.length > 0) {
      const e = byDescriptor.get(stack.pop()!);
      if (!e || seen.has(e)) continue;
      seen.add(e);
      stack.push(...e.dependencies);
    }
    return seen;
  };
  const prod = reach(project.dependencies);
  const prodIds = new Set([...prod].flatMap((e) => (e.package ? [packageId(e.package)] : [])));
  const dev = new Set<string>();
  for (const e of reach(project.devDependencies)) {
    if (e.package && !prodIds.has(packageId(e.package))) dev.add(packageId(e.package));
  }
  return dev;
}
