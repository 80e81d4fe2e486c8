import { createHash } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";
import { ScanError } from "../shared/model/errors.js";
import { YaraEngine } from "../shared/analysis/content/yara-engine.js";
import { readUserYaraRules } from "../shared/analysis/content/yara-rule-dirs.js";
import { parsePolicy } from "../shared/policy/load-policy.js";

/** Where `npm run package` writes the Functions zip (ignored by git, beside the other local state). */
export const DEFAULT_PACKAGE_PATH = new URL("../.portcullis/deploy/functions.zip", import.meta.url);

export interface PackageOptions {
  /** the repository root: host.json, package.json, package-lock.json and node_modules */
  root: string;
  /** the compiled output of `tsc -p tsconfig.build.json` (holds functions/ and shared/) */
  distDir: string;
  /** the zip to write */
  out: string;
  /** a policy file to ship as `portcullis.yaml` at the app root */
  policyFile?: string;
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
}

/** A file of the package: where it is read from and its path inside the zip. */
interface Entry {
  source: string;
  path: string;
}

const posix = (p: string) => p.split(sep).join("/");

/** Every regular file under a directory, skipping symlinks (`.bin` links) and the given subfolder names. */
function walk(dir: string, skip: ReadonlySet<string> = new Set()): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = join(dir, e.name);
      if (e.isSymbolicLink()) return [];
      if (e.isDirectory()) return skip.has(e.name) ? [] : walk(full, skip);
      return e.isFile() ? [full] : [];
    })
    .sort();
}

/**
 * The production packages the lockfile installs, as folders under node_modules: the same set
 * `npm ci --omit=dev` gives, read offline. `devOptional` (optional in production, required in dev,
 * as ajv is for the CycloneDX library) still installs without dev dependencies, so it ships.
 */
export function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockPackage>;
  };
  return Object.entries(lock.packages)
    .filter(([path, pkg]) => path.startsWith("node_modules/") && !pkg.dev)
    .map(([path]) => path)
    .filter((path) => existsSync(join(root, path))) // an optional package for another platform
    .sort();
}

/** What the zip holds: host.json, package.json, the compiled code without tests, production dependencies. */
export function packageEntries(options: PackageOptions): Entry[] {
  const { root, distDir } = options;
  const entries: Entry[] = [
    { source: join(root, "host.json"), path: "host.json" },
    { source: join(root, "package.json"), path: "package.json" },
  ];
  for (const file of walk(distDir)) {
    const rel = posix(relative(distDir, file));
    if (!/^(functions|shared)\//.test(rel) || /\.test\.js(\.map)?$/.test(rel)) continue;
    entries.push({ source: file, path: `dist/${rel}` });
  }
  if (options.policyFile) {
    entries.push({ source: options.policyFile, path: "portcullis.yaml" });
    entries.push(...yaraRuleEntries(options.policyFile));
  }
  // Each lockfile entry owns its folder except the nested node_modules, which are entries of their own.
  for (const pkg of productionPackages(root))
    for (const file of walk(join(root, pkg), new Set(["node_modules"])))
      entries.push({ source: file, path: posix(relative(root, file)) });
  return entries;
}

/**
 * The policy's YARA rule directories (`content.yaraRules`, relative to the policy file), shipped at
 * the same place relative to the app root, where the shipped `portcullis.yaml` resolves them. Each
 * rule file must compile with the shipped rules here, so a broken rule fails the package, not the
 * Function's cold start; a directory outside the policy's folder cannot be shipped and is an error.
 */
export function yaraRuleEntries(policyFile: string): Entry[] {
  const baseDir = dirname(resolve(policyFile));
  const policy = parsePolicy(readFileSync(policyFile, "utf8"), policyFile);
  const entries: Entry[] = [];
  for (const dir of policy.content.yaraRules) {
    const rel = posix(relative(baseDir, resolve(baseDir, dir)));
    if (rel === ".." || rel.startsWith("../") || isAbsolute(rel))
      throw new ScanError(
        "invalid-settings",
        `YARA rule directory ${dir} lies outside ${baseDir}: keep it beside the policy file so the package can ship it`,
      );
    const rules = readUserYaraRules([dir], baseDir);
    for (const file of rules.files)
      entries.push({
        source: file.path,
        path: rel === "" ? basename(file.path) : `${rel}/${basename(file.path)}`,
      });
  }
  const all = readUserYaraRules(policy.content.yaraRules, baseDir);
  if (all.files.length > 0) new YaraEngine(all);
  return entries;
}

/** Writes the zip (fixed timestamps, sorted entries: the same inputs give the same bytes) and returns its hash. */
export async function buildFunctionsPackage(
  options: PackageOptions,
): Promise<{ path: string; sha256: string }> {
  const main = JSON.parse(readFileSync(join(options.root, "package.json"), "utf8")).main as string;
  if (!existsSync(join(options.distDir, relative("dist", main))))
    throw new ScanError("deploy-not-ready", `${main} is not built: run \`npm run build\` first`);
  mkdirSync(dirname(options.out), { recursive: true });
  const zip = new yazl.ZipFile();
  const mtime = new Date("2000-01-01T00:00:00Z");
  for (const entry of packageEntries(options).sort((a, b) => a.path.localeCompare(b.path)))
    zip.addFile(entry.source, entry.path, { mtime, mode: (lstatSync(entry.source).mode & 0o777) | 0o100000 });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(options.out));
  const hash = createHash("sha256");
  await pipeline(createReadStream(options.out), hash);
  return { path: options.out, sha256: hash.digest("hex") };
}
