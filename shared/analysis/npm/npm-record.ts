import type { AnalyzerWarning, PackageRecord } from "../analyzer.js";
import { excerpt } from "../excerpt.js";

/** One npm package a file names: the registry name (an alias resolved) and its version. */
export interface NpmPackage {
  name: string;
  version: string;
  /** the lockfile marks it a development dependency */
  dev?: boolean;
}

/** A project's own package.json (outside node_modules): what it asks for, production and dev. */
export interface ProjectManifest {
  /** dependencies, optionalDependencies and peerDependencies: name → range */
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  /** npm/yarn workspace globs (`packages/*`), relative to the project */
  workspaces?: string[];
}

export const packageId = (p: NpmPackage) => `${p.name}@${p.version}`;

/** What a lockfile reader hands back. */
export interface NpmRead {
  packages: NpmPackage[];
  problems: string[];
}

// npm refuses names over 214 characters; versions this long are not versions
const NAME = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9_.~-][\w.~-]*$/i;
const VERSION = /^v?\d+\.\d+\.\d+[\w.+-]*$/;

/** Accepts what the npm registry could have published; rejects git, file and tarball references. */
export function npmPackage(name: unknown, version: unknown): NpmPackage | undefined {
  if (typeof name !== "string" || typeof version !== "string") return undefined;
  if (name.length > 214 || version.length > 256 || !NAME.test(name) || !VERSION.test(version))
    return undefined;
  return { name, version };
}

/** `npm:real-name@1.2.3` (an alias, as lockfile v1 and package.json write it) → name and version. */
export function splitAlias(spec: string): { name: string; version: string } | undefined {
  if (!spec.startsWith("npm:")) return undefined;
  const rest = spec.slice(4);
  const at = rest.lastIndexOf("@");
  if (at <= 0) return undefined;
  return { name: rest.slice(0, at), version: rest.slice(at + 1) };
}

// a lockfile lists every package once per place it is installed; far beyond any real project
export const MAX_LOCK_PACKAGES = 500_000;

export const toRecord = (p: NpmPackage): PackageRecord => ({
  kind: "npm",
  name: p.name,
  version: p.version,
  ecosystem: "npm",
  ...(p.dev ? { dev: true } : {}),
});

export function problemsToWarnings(path: string, problems: readonly string[]): AnalyzerWarning[] {
  return problems.map((p) => ({ code: "npm-manifest-unreadable", message: `${path}: ${excerpt(p)}`, path }));
}
