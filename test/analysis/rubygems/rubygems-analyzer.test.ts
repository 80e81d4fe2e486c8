import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { identifyGem, rubygemsAnalyzer } from "../../../shared/analysis/rubygems/rubygems-analyzer.js";

/** Ruby's own reading: RubyGems' Gem::Specification.load, Bundler's LockfileParser. */
const ruby = (script: string, args: string[], cwd?: string) =>
  execFileSync("ruby", ["-e", script, ...args], { cwd })
    .toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .sort();

const analyze = async (p: string, content: Buffer) => {
  const out = await rubygemsAnalyzer.analyze({ path: p, content });
  return {
    ids: (out.packages ?? []).map((g) => `${g.name}@${g.version}`).sort(),
    warnings: out.warnings ?? [],
  };
};

describe("RubyGems", () => {
  it("reads Debian's installed gemspecs (bundled and default gems) as Gem::Specification.load does", async () => {
    const dirs = ruby("puts Gem::Specification.dirs", []).flatMap((d) => [d, path.join(d, "default")]);
    const files = dirs
      .filter((d) => existsSync(d))
      .flatMap((d) =>
        readdirSync(d)
          .filter((f) => f.endsWith(".gemspec"))
          .map((f) => path.join(d, f)),
      );
    expect(files.length).toBeGreaterThan(10);
    const expected = ruby(
      'ARGV.each { |f| s = Gem::Specification.load(f); puts "#{s.name}@#{s.version}" }',
      files,
    );
    const ids: string[] = [];
    for (const f of files) {
      const read = await analyze(f.slice(1), readFileSync(f));
      expect(read.warnings, f).toEqual([]);
      ids.push(...read.ids);
    }
    expect(ids.sort()).toEqual(expected);
  });

  it("reads a Gemfile.lock that Bundler wrote as Bundler's LockfileParser does", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "portcullis-gems-"));
    try {
      writeFileSync(
        path.join(dir, "Gemfile"),
        'source "https://rubygems.org"\ngem "rake"\ngem "minitest"\ngem "test-unit"\n',
      );
      // --local resolves against the gems Debian's ruby installed: no network
      execFileSync("ruby", ["-e", 'load Gem.bin_path("bundler", "bundle")', "lock", "--local"], {
        cwd: dir,
        stdio: "ignore",
      });
      const lock = path.join(dir, "Gemfile.lock");
      const expected = ruby(
        'require "bundler"; Bundler::LockfileParser.new(File.read(ARGV[0])).specs.each { |s| puts "#{s.name}@#{s.version}" }',
        [lock],
        dir,
      );
      expect(expected.length).toBeGreaterThanOrEqual(4);
      const read = await analyze("srv/app/Gemfile.lock", readFileSync(lock));
      expect(read.warnings).toEqual([]);
      expect(read.ids).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names gems as gem purls and selects only specifications and lockfiles", () => {
    expect(identifyGem({ kind: "gem", name: "rake", version: "13.0.6" })).toEqual({
      ecosystem: "RubyGems",
      purl: "pkg:gem/rake@13.0.6",
    });
    expect(rubygemsAnalyzer.required("usr/local/bundle/specifications/rack-2.2.8.gemspec")).toBe(true);
    expect(rubygemsAnalyzer.required("app/x.gemspec")).toBe(false);
  });

  it("answers garbage with a warning and never runs Ruby", async () => {
    const out = await analyze("x/specifications/a.gemspec", Buffer.from('system("rm -rf /")\n'));
    expect(out.ids).toEqual([]);
    expect(out.warnings.length).toBe(1);
    const lock = await analyze(
      "Gemfile.lock",
      Buffer.from("GEM\n  specs:\n    x (not a version)\n    y (1.0"),
    );
    expect(lock.ids).toEqual([]);
    expect(lock.warnings.length).toBe(1);
  });
});
