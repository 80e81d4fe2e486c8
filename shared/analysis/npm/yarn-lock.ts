import { parse } from "yaml";
import { MAX_LOCK_PACKAGES, type NpmPackage, type NpmRead, npmPackage } from "./npm-record.js";

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

/** yarn.lock, classic (v1, its own format) or berry (v2+, YAML with `__metadata`). */
export function readYarnLock(text: string): NpmRead {
  return /^__metadata:/m.test(text) ? readBerry(text) : readClassic(text);
}

function readClassic(text: string): NpmRead {
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  let current: { name?: string; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith(" ")) {
      if (current) problems.push(`line ${current.line}: entry has no version`);
      const first = line.replace(/:$/, "").split(",")[0]!.trim();
      current = { name: descriptorName(unquote(first)), line: i + 1 };
      continue;
    }
    const m = /^ {2}version:? "?([^"]*)"?$/.exec(line);
    if (!m || !current) continue;
    const pkg = npmPackage(current.name, m[1]);
    if (pkg) packages.push(pkg);
    else problems.push(`line ${i + 1}: ${String(current.name)}@${m[1]} is not a registry package`);
    current = undefined;
    if (packages.length >= MAX_LOCK_PACKAGES) {
      problems.push(`more than ${MAX_LOCK_PACKAGES} packages; the rest were not read`);
      break;
    }
  }
  if (current) problems.push(`line ${current.line}: entry has no version`);
  return { packages, problems };
}

function readBerry(text: string): NpmRead {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    return { packages: [], problems: [`not YAML (${(err as Error).message.split("\n")[0]})`] };
  }
  if (typeof doc !== "object" || doc === null) return { packages: [], problems: ["not a YAML mapping"] };
  const packages: NpmPackage[] = [];
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(doc as Record<string, unknown>)) {
    if (key === "__metadata" || typeof entry !== "object" || entry === null) continue;
    const { version, resolution } = entry as { version?: unknown; resolution?: unknown };
    // the resolution names what was installed: workspaces, links and patches are not registry packages
    const resolved = typeof resolution === "string" ? resolution : key.split(",")[0]!.trim();
    const at = resolved.indexOf("@", 1);
    if (at < 0 || !resolved.slice(at + 1).startsWith("npm:")) continue;
    const pkg = npmPackage(resolved.slice(0, at), version);
    if (pkg) packages.push(pkg);
    else problems.push(`${key}: no registry version`);
    if (packages.length >= MAX_LOCK_PACKAGES) break;
  }
  return { packages, problems };
}
