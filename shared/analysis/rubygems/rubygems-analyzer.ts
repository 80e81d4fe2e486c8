import { PackageURL } from "packageurl-js";
import type { Analyzer, AnalyzerOutput, PackageIdentity, PackageRecord } from "../analyzer.js";
import { type Gem, readGemfileLock, readGemspec } from "./gem-files.js";
import { excerpt } from "../excerpt.js";

const INSTALLED = /(?:^|\/)specifications\/(?:default\/)?[^/]+\.gemspec$/;

/** Installed gems (`specifications/*.gemspec`, default gems included) and a project's `Gemfile.lock`. */
export const rubygemsAnalyzer: Analyzer = {
  name: "rubygems",
  version: 1,
  maxFileSize: 16 * 1024 * 1024,
  required: (path) => INSTALLED.test(path) || path === "Gemfile.lock" || path.endsWith("/Gemfile.lock"),
  analyze({ path, content }): AnalyzerOutput {
    const text = content.toString("utf8");
    let gems: Gem[];
    let problems: string[];
    if (path.endsWith(".gemspec")) {
      const found = readGemspec(text);
      gems = found ? [found] : [];
      problems = found ? [] : ["no name and version assignment"];
    } else ({ gems, problems } = readGemfileLock(text));
    return {
      packages: gems.map(
        (g): PackageRecord => ({ kind: "gem", name: g.name, version: g.version, ecosystem: "RubyGems" }),
      ),
      warnings: problems.map((p) => ({
        code: "rubygems-file-unreadable",
        message: `${path}: ${excerpt(p)}`,
        path,
      })),
    };
  },
  identify: identifyGem,
};

/** `pkg:gem/<name>@<version>`, in the `RubyGems` ecosystem. */
export function identifyGem(record: PackageRecord): PackageIdentity {
  const purl = new PackageURL("gem", undefined, record.name, record.version, undefined, undefined).toString();
  return { ecosystem: "RubyGems", purl };
}
