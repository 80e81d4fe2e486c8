import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { composerAnalyzer } from "../../../shared/analysis/composer/composer-analyzer.js";

// No composer and no Packagist here: the files follow Composer 2's documented layout, written by
// the test; Python reads them independently for the expected answer.
const INSTALLED = {
  packages: [
    { name: "monolog/monolog", version: "3.5.0", version_normalized: "3.5.0.0" },
    { name: "psr/log", version: "v3.0.0", version_normalized: "3.0.0.0" },
    { name: "phpunit/phpunit", version: "10.5.10", version_normalized: "10.5.10.0" },
    { name: "acme/tool", version: "dev-main", version_normalized: "dev-main" },
  ],
  dev: true,
  "dev-package-names": ["phpunit/phpunit"],
};
const LOCK = { packages: INSTALLED.packages.slice(0, 2), "packages-dev": [INSTALLED.packages[2]] };

const python = (doc: unknown) =>
  (
    JSON.parse(
      execFileSync(
        "python3",
        [
          "-c",
          'import sys, json, re\nd = json.load(sys.stdin)\ndev = set(d.get("dev-package-names", []))\nprint(json.dumps([p["name"] + "@" + re.sub(r"^v(?=\\d)", "", p["version"]) for p in d["packages"] if p["name"] not in dev and not p["version"].startswith("dev-")]))',
        ],
        { input: JSON.stringify(doc) },
      ).toString(),
    ) as string[]
  ).sort();

const ids = async (path: string, doc: unknown, dev = false) =>
  ((await composerAnalyzer.analyze({ path, content: Buffer.from(JSON.stringify(doc)) })).packages ?? [])
    .filter((p) => Boolean(p.dev) === dev)
    .map((p) => `${p.name}@${p.version}`)
    .sort();

describe("Composer", () => {
  it("reads installed.json, dev packages marked, branch checkouts left out", async () => {
    expect(await ids("var/www/vendor/composer/installed.json", INSTALLED)).toEqual(python(INSTALLED));
    expect(await ids("var/www/vendor/composer/installed.json", INSTALLED, true)).toEqual([
      "phpunit/phpunit@10.5.10",
    ]);
  });

  it("reads composer.lock's packages, packages-dev marked dev, and Composer 1's list form", async () => {
    expect(await ids("var/www/composer.lock", LOCK)).toEqual(python(LOCK));
    expect(await ids("var/www/composer.lock", LOCK, true)).toEqual(["phpunit/phpunit@10.5.10"]);
    expect(await ids("vendor/composer/installed.json", LOCK.packages)).toEqual(python(LOCK));
  });

  it("names packages as composer purls in the Packagist ecosystem, and warns about broken JSON", async () => {
    const out = await composerAnalyzer.analyze({
      path: "composer.lock",
      content: Buffer.from(JSON.stringify(LOCK)),
    });
    expect(composerAnalyzer.identify!(out.packages![0]!, undefined)).toEqual({
      ecosystem: "Packagist",
      purl: "pkg:composer/monolog/monolog@3.5.0",
    });
    for (const text of ['{"packages": [', "42", '{"packages": 3}']) {
      const bad = await composerAnalyzer.analyze({ path: "composer.lock", content: Buffer.from(text) });
      expect(bad.warnings?.length).toBe(1);
    }
  });
});
