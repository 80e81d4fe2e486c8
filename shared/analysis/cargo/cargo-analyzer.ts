import { parse } from "smol-toml";
import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { excerpt } from "../excerpt.js";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = /^\d+\.\d+\.\d+[\w.+-]*$/;

/**
 * Rust crates a project's `Cargo.lock` pins (`[[package]]` with a crates.io registry source; the
 * workspace's own crates, git and path dependencies are not published crates).
 */
export const cargoAnalyzer: Analyzer = {
  name: "cargo",
  version: 1,
  maxFileSize: 16 * 1024 * 1024,
  required: (path) => path === "Cargo.lock" || path.endsWith("/Cargo.lock"),
  analyze({ path, content }): AnalyzerOutput {
    const warn = (message: string) => ({
      warnings: [{ code: "cargo-lock-unreadable", message: `${path}: ${excerpt(message)}`, path }],
    });
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
