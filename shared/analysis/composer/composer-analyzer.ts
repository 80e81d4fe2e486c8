import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { excerpt } from "../excerpt.js";

const NAME = /^[a-z0-9]([_.-]?[a-z0-9]+)*\/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$/;
const VERSION = /^v?\d+(?:\.\d+)*[\w.+-]*$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * PHP packages: what Composer installed (`vendor/composer/installed.json`, v1 list or v2 object)
 * and a project's `composer.lock` (`packages`, and `packages-dev`): dev packages marked `dev`.
 */
export const composerAnalyzer: Analyzer = {
  name: "composer",
  version: 2,
  maxFileSize: 32 * 1024 * 1024,
  extensions: ["json", "lock"],
  required: (path) =>
    path.endsWith("vendor/composer/installed.json") ||
    path === "composer.lock" ||
    path.endsWith("/composer.lock"),
  analyze({ path, content }): AnalyzerOutput {
    const warn = (message: string): AnalyzerOutput => ({
      warnings: [{ code: "composer-file-unreadable", message: `${path}: ${excerpt(message)}`, path }],
    });
    let doc: unknown;
    try {
      doc = JSON.parse(content.toString("utf8"));
    } catch (err) {
      return warn(`not JSON (${(err as Error).message})`);
    }
    let list: unknown;
    let dev = new Set<string>();
    if (Array.isArray(doc)) list = doc;
    else if (isObject(doc)) {
      // composer.lock keeps dev packages in their own list; installed.json names them
      const devList = Array.isArray(doc["packages-dev"]) ? doc["packages-dev"] : [];
      list = Array.isArray(doc.packages) ? [...doc.packages, ...devList] : undefined;
      dev = new Set(devList.filter(isObject).map((p) => String(p.name)));
      if (Array.isArray(doc["dev-package-names"])) dev = new Set(doc["dev-package-names"].map(String));
    }
    if (!Array.isArray(list)) return warn("no package list");
    const packages: PackageRecord[] = [];
    for (const p of list) {
      if (!isObject(p) || typeof p.name !== "string" || typeof p.version !== "string") continue;
      // branch checkouts ("dev-main") are not releases advisories can name
      if (!NAME.test(p.name) || !VERSION.test(p.version)) continue;
      packages.push({
        kind: "composer",
        name: p.name,
        version: p.version.replace(/^v(?=\d)/, ""),
        ecosystem: "Packagist",
        ...(dev.has(p.name) ? { dev: true } : {}),
      });
    }
    return { packages };
  },
  identify: languageIdentity({ type: "composer", ecosystem: "Packagist", namespace: "first-slash" }),
};
