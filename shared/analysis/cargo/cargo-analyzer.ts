import { parse } from "smol-toml";
import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { isExecutablePlace } from "../executable-places.js";
import { excerpt } from "../excerpt.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { readAuditableCrates } from "./cargo-auditable.js";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = /^\d+\.\d+\.\d+[\w.+-]*$/;

// binaries may be large; a lockfile this size is not one cargo wrote
const MAX_LOCKFILE = 16 * 1024 * 1024;

const isLockfile = (path: string) => path === "Cargo.lock" || path.endsWith("/Cargo.lock");

/**
 * Rust crates a project's `Cargo.lock` pins (`[[package]]` with a crates.io registry source; the
 * workspace's own crates, git and path dependencies are not published crates), and the crates.io
 * crates a `cargo auditable` binary (ELF or PE) records in its `.dep-v0` section.
 */
export const cargoAnalyzer: Analyzer = {
  name: "cargo",
  version: 2,
  maxFileSize: 512 * 1024 * 1024,
  // Cargo.lock, and binaries: no dot in their name, or .exe
  extensions: ["lock", "", "exe"],
  required: (path) => isLockfile(path) || isExecutablePlace(path),
  // a binary's .dep-v0 is found through its section table in the walk's chunks: none is joined or kept
  analyzeChunks({ path, chunks }) {
    const bytes = new ChunkedBytes(chunks);
    if (!isLockfile(path)) return analyzeBinary(path, bytes);
    return cargoAnalyzer.analyze({ path, content: bytes.slice(0, bytes.length) });
  },
  analyze({ path, content }): AnalyzerOutput {
    if (!isLockfile(path)) return analyzeBinary(path, content);
    const warn = (message: string) => ({
      warnings: [{ code: "cargo-lock-unreadable", message: `${path}: ${excerpt(message)}`, path }],
    });
    if (content.length > MAX_LOCKFILE) return warn(`${content.length} bytes is too large for a Cargo.lock`);
    let doc: Record<string, unknown>;
    try {
      doc = parse(content.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      return warn(`not TOML (${(err as Error).message.split("\n")[0]})`);
    }
    if (!Array.isArray(doc.package)) return warn("no [[package]] tables");
    const packages: PackageRecord[] = [];
    for (const p of doc.package as Record<string, unknown>[]) {
      const { name, version, source } = p ?? {};
      if (typeof source !== "string" || !source.startsWith("registry+")) continue;
      if (
        typeof name !== "string" ||
        typeof version !== "string" ||
        !NAME.test(name) ||
        !VERSION.test(version)
      )
        continue;
      packages.push({ kind: "cargo", name, version, ecosystem: "crates.io" });
    }
    return { packages };
  },
  identify: languageIdentity({ type: "cargo", ecosystem: "crates.io" }),
};

function analyzeBinary(path: string, content: Buffer | ChunkedBytes): AnalyzerOutput {
  const crates = readAuditableCrates(content);
  if (crates === undefined) return {};
  if (typeof crates === "string")
    return {
      warnings: [{ code: "cargo-auditable-unreadable", message: `${path}: ${excerpt(crates)}`, path }],
    };
  return {
    packages: crates.map((c): PackageRecord => ({ kind: "cargo", ...c, ecosystem: "crates.io" })),
  };
}
