import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { type Gem, readGemfileLock, readGemspec } from "./gem-files.js";
import { excerpt } from "../excerpt.js";

const INSTALLED = /(?:^|\/)specifications\/(?:default\/)?[^/]+\.gemspec$/;

/** `pkg:gem/<name>@<version>`, in the `RubyGems` ecosystem. */
export const identifyGem = languageIdentity({ type: "gem", ecosystem: "RubyGems" });

/** Installed gems (`specifications/*.gemspec`, default gems included) and a project's `Gemfile.lock`. */
export const rubygemsAnalyzer: Analyzer = {
  name: "rubygems",
  version: 1,
  maxFileSize: 16 * 1024 * 1024,
  extensions: ["gemspec", "lock"],
  required: (path) =>
    (path.endsWith(".gemspec") && INSTALLED.test(path)) ||
    path === "Gemfile.lock" ||
    path.endsWith("/Gemfile.lock"),
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
