import { parse } from "yaml";
import { MAX_LOCK_PACKAGES, type NpmPackage, type NpmRead, npmPackage } from "./npm-record.js";

/**
 * `packages` of a pnpm-lock.yaml: keys `/name/1.2.3_peer` (v5), `/name@1.2.3(peer@2)` (v6),
 * `name@1.2.3` (v9). Dev dependencies are marked `dev`: v5 and v6 mark them, v9 by what the
 * importers' production dependencies do not reach through `snapshots`.
 */
export function readPnpmLock(text: string): NpmRead {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    return { packages: [], problems: [`not YAML (${(err as Error).message.split("\n")[0]})`] };
  }
  if (typeof doc !== "object" || doc === null) return { packages: [], problems: ["not a YAML mapping"] };
  const { lockfileVersion, packages: entries, importers, snapshots } = doc as Record<string, unknown>;
  if (typeof entries !== "object" || entries === null) return { packages: [], problems: [] };
  const v5 = String(lockfileVersion).startsWith("5");
  const prod = isMap(importers) && isMap(snapshots) ? productionKeys(importers, snapshots) : undefined;
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(entries as Record<string, unknown>)) {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const dev = e.dev === true || (prod !== undefined && !prod.has(key));
    const parsed = v5 ? splitV5(key) : splitAt(key);
    // tarball and git dependencies carry their own name and version fields
    const pkg = npmPackage(e.name ?? parsed?.name, e.version ?? parsed?.version);
    if (pkg) packages.push(dev ? { ...pkg, dev } : pkg);
    else if (!/^(?:file:|link:|git|https?:)/.test(key.replace(/^\//, "")))
      problems.push(`${key}: not name@version`);
    if (packages.length >= MAX_LOCK_PACKAGES) break;
  }
  return { packages, problems };
}

function splitV5(key: string): { name: string; version: string } | undefined {
  const k = key.replace(/^\//, "");
  const slash = k.lastIndexOf("/");
  if (slash <= 0) return undefined;
  return { name: k.slice(0, slash), version: k.slice(slash + 1).split("_")[0]! };
}

function splitAt(key: string): { name: string; version: string } | undefined {
  const k = key.replace(/^\//, "").replace(/\(.*$/, "");
  const at = k.indexOf("@", 1);
  if (at < 0) return undefined;
  return { name: k.slice(0, at), version: k.slice(at + 1) };
}

type YamlMap = Record<string, unknown>;
const isMap = (v: unknown): v is YamlMap => typeof v === "object" && v !== null && !Array.isArray(v);

/** v9: the `packages` keys that the importers' dependencies and optionalDependencies reach. */
function productionKeys(importers: YamlMap, snapshots: YamlMap): Set<string> {
  const reached = new Set<string>();
  const queue: string[] = [];
  const visit = (name: string, version: unknown) => {
    if (typeof version !== "string" || version.startsWith("link:")) return;
    // an alias resolves to `real@1.2.3`; a plain version is the dependency's own
    const key = version.indexOf("@", 1) > 0 ? version : `${name}@${version}`;
    if (reached.has(key)) return;
    reached.add(key);
    queue.push(key);
  };
  for (const importer of Object.values(importers)) {
    if (!isMap(importer)) continue;
    for (const field of ["dependencies", "optionalDependencies"]) {
      const deps = importer[field];
      if (isMap(deps)) for (const [name, d] of Object.entries(deps)) visit(name, isMap(d) ? d.version : d);
    }
  }
  // each key enters the queue once, so the walk is bounded by the snapshot count
  while (queue.length > 0) {
    const snapshot = snapshots[queue.pop()!];
    if (!isMap(snapshot)) continue;
    for (const field of ["dependencies", "optionalDependencies"]) {
      const deps = snapshot[field];
      if (isMap(deps)) for (const [name, version] of Object.entries(deps)) visit(name, version);
    }
  }
  // snapshot keys carry peer suffixes, `packages` keys do not
  return new Set([...reached].map((k) => k.replace(/\(.*$/, "")));
}
