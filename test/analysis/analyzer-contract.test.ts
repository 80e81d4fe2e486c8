import childProcess from "node:child_process";
import fs, { readdirSync } from "node:fs";
import fsPromises from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { type Analyzer, AnalyzerOutputSchema } from "../../shared/analysis/analyzer.js";
import { nameExtension, PathRouter } from "../../shared/analysis/path-router.js";
import { ANALYZERS, analyzerSetVersion } from "../../shared/analysis/registry.js";
import { ScanError } from "../../shared/model/errors.js";
import { seededRandom } from "../support/seeded-random.js";

// The contract every entry of ANALYZERS keeps, run against each of them the way the versioning
// contract test runs every scheme: a new analyzer is covered by adding it to the list (and, if it
// reads a file none of these paths name, its path to PROBE_PATHS).

/** Paths the analyzers of today and the ones planned ask for, plus names that must not confuse them. */
const PROBE_PATHS = [
  // OS release files and OS package databases
  "etc/os-release",
  "usr/lib/os-release",
  "etc/debian_version",
  "etc/alpine-release",
  "etc/redhat-release",
  "var/lib/dpkg/status",
  "var/lib/dpkg/status.d/libssl3",
  "var/lib/dpkg/status.d/libssl3.md5sums",
  "var/lib/dpkg/info/python3-yaml.list",
  "lib/apk/db/installed",
  "usr/lib/apk/db/installed",
  "var/lib/rpm/Packages",
  "var/lib/rpm/rpmdb.sqlite",
  "usr/lib/sysimage/rpm/rpmdb.sqlite",
  // language package manifests and lock files
  "app/package.json",
  "app/package-lock.json",
  "usr/lib/node_modules/npm/package.json",
  "app/node_modules/left-pad/package.json",
  "app/yarn.lock",
  "app/pnpm-lock.yaml",
  "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
  "usr/local/lib/python3.11/site-packages/urllib3-2.0.0.dist-info/METADATA",
  "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
  "app/requirements.txt",
  "app/poetry.lock",
  "app/Pipfile.lock",
  "app/go.mod",
  "app/go.sum",
  "usr/local/bin/app",
  "app/pom.xml",
  "app/lib/commons-text-1.9.jar",
  "root/.m2/repository/org/apache/commons/commons-text/1.9/commons-text-1.9.pom",
  "app/app.deps.json",
  "app/packages.lock.json",
  "app/Gemfile.lock",
  "usr/local/bundle/specifications/rack-2.2.8.gemspec",
  "app/Cargo.lock",
  "app/composer.lock",
  "app/vendor/composer/installed.json",
  "package-lock.json",
  "usr/src/app/package-lock.json",
  "usr/local/lib/node_modules/npm/package.json",
  "usr/lib/python3.11/site-packages/idna-3.4.dist-info/METADATA",
  "usr/lib/python3.11/site-packages/idna-3.4.dist-info/RECORD",
  "opt/app/venv/lib/python3.12/site-packages/flask-3.0.0.dist-info/METADATA",
  "usr/local/go/bin/go",
  "app/main",
  "go/pkg/mod/cache/download/golang.org/x/net/@v/list",
  "app/app.jar",
  "opt/app/lib/log4j-core-2.14.1.jar",
  "usr/share/java/guava.jar",
  "app/obj/project.assets.json",
  "usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.3/Microsoft.NETCore.App.deps.json",
  "var/lib/gems/3.1.0/specifications/rack-2.2.8.gemspec",
  "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
  "usr/local/cargo/bin/app",
  "var/www/html/composer.lock",
  "var/lib/rpm/Packages.db",
  "usr/lib/sysimage/rpm/Packages.db",
  "usr/lib/sysimage/rpm/Packages",
  "var/lib/rpmmanifest/container-manifest-2",
  "var/lib/pacman/local/ALPM_DB_VERSION",
  "var/lib/opkg/status",
  // configuration an audit may read
  "etc/passwd",
  "etc/shadow",
  "etc/group",
  "etc/sudoers",
  "etc/ssh/sshd_config",
  "etc/login.defs",
  "etc/nginx/nginx.conf",
  "root/.bash_history",
  "root/.ssh/id_rsa",
  "app/.env",
  "usr/local/bin/docker-entrypoint.sh",
  // Windows layers
  "Hives/Software_Delta",
  "Hives/Software",
  "Hives/System_Delta",
  "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.3/Microsoft.NETCore.App.deps.json",
  "Files/Program Files (x86)/dotnet/shared/Microsoft.AspNetCore.App/6.0.1/Microsoft.AspNetCore.App.deps.json",
  "Files/Program Files/PowerShell/7/pwsh.deps.json",
  "Files/Windows/servicing/Packages/Package_for_RollupFix~31bf3856ad364e35~amd64~~26100.4061.1.7.mum",
  // names no analyzer should take for a package database
  "",
  "var/lib/dpkg/status/",
  "var/lib/dpkg/status.d/",
  "VAR/LIB/DPKG/STATUS",
  "../var/lib/dpkg/status",
  "var/lib/dpkg/status\0.txt",
  `usr/share/${"deep/".repeat(400)}file`,
  "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/../../../../Windows/x.deps.json",
  "usr/share/doc/ünïcödé/😀.json",
];

/** Runs `fn` with every way to reach the disk, a process or the network replaced by one that fails. */
function withoutIo<T>(fn: () => T): { result: T; attempts: string[] } {
  const attempts: string[] = [];
  const restore: (() => void)[] = [];
  const trap = (target: Record<string, unknown>, label: string) => {
    for (const key of Object.keys(target)) {
      const original = target[key];
      if (typeof original !== "function" || /^[A-Z]/.test(key) || key === "constants") continue;
      target[key] = (..._args: unknown[]) => {
        attempts.push(`${label}.${key}`);
        throw new Error(`I/O from required(): ${label}.${key}`);
      };
      restore.push(() => {
        target[key] = original;
      });
    }
  };
  trap(fs as unknown as Record<string, unknown>, "fs");
  trap(fsPromises as unknown as Record<string, unknown>, "fs/promises");
  trap(childProcess as unknown as Record<string, unknown>, "child_process");
  const fetch = globalThis.fetch;
  globalThis.fetch = (() => {
    attempts.push("fetch");
    throw new Error("network from required()");
  }) as typeof globalThis.fetch;
  syncBuiltinESMExports();
  try {
    return { result: fn(), attempts };
  } finally {
    for (const undo of restore) undo();
    globalThis.fetch = fetch;
    syncBuiltinESMExports();
  }
}

/** The analyzer's own properties, so a call that changes its state shows. */
function stateOf(analyzer: Analyzer): unknown {
  return Object.entries(analyzer).map(([key, value]) => [
    key,
    typeof value === "function" ? value : JSON.stringify(value),
  ]);
}

const random = seededRandom(0x8b);
const garbage = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

/** Hostile contents, each within the analyzer's own size bound (the layer walk never hands more). */
function hostileInputs(maxFileSize: number): [string, Buffer][] {
  const big = Math.min(maxFileSize, 4 * 1024 * 1024);
  const stanza =
    "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nP:musl\nV:1.2.4-r2\n\n";
  const json = JSON.stringify({ libraries: { "a/1.0": { type: "package" } }, name: "x", version: "1.0.0" });
  return [
    ["empty", Buffer.alloc(0)],
    ["a lone newline", Buffer.from("\n")],
    ["a truncated package stanza", Buffer.from(stanza.slice(0, 37))],
    ["a truncated JSON document", Buffer.from(json.slice(0, json.length - 7))],
    ["a truncated regf header", Buffer.concat([Buffer.from("regf"), garbage(60)])],
    ["a regf header on binary garbage", Buffer.concat([Buffer.from("regf"), garbage(8 * 1024)])],
    ["binary garbage", garbage(64 * 1024)],
    ["NUL bytes", Buffer.alloc(4096)],
    ["invalid UTF-8", Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x0a])],
    ["UTF-16 with a BOM", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(stanza, "utf16le")])],
    ["one huge line", Buffer.alloc(big, "A")],
    ["a huge field value", Buffer.from(`Package: x\nVersion: ${"9".repeat(Math.max(0, big - 40))}\n`)],
    ["deeply nested arrays", Buffer.from("[".repeat(Math.min(big, 200_000)))],
    ["deeply nested objects", Buffer.from('{"a":'.repeat(Math.min(big, 200_000) / 5))],
    ["many empty stanzas", Buffer.from("\n".repeat(Math.min(big, 1_000_000)))],
    ["CRLF line ends", Buffer.from(stanza.replaceAll("\n", "\r\n"))],
  ];
}

afterEach(() => {
  syncBuiltinESMExports();
});

describe.each(ANALYZERS.map((a) => [a.name, a] as const))("analyzer %s", (_name, analyzer) => {
  const wanted = PROBE_PATHS.filter((p) => analyzer.required(p));

  it("declares a name, a positive integer version and a finite file-size bound", () => {
    expect(analyzer.name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(Number.isInteger(analyzer.version) && analyzer.version > 0).toBe(true);
    expect(Number.isFinite(analyzer.maxFileSize) && analyzer.maxFileSize > 0).toBe(true);
  });

  it("asks for at least one of the probe paths (add its path to PROBE_PATHS if not)", () => {
    expect(wanted, `${analyzer.name} asks for none of PROBE_PATHS`).not.toEqual([]);
  });

  it("required() is pure: the same answer twice, no I/O, no change to the analyzer", () => {
    const before = stateOf(analyzer);
    const { result, attempts } = withoutIo(() =>
      PROBE_PATHS.map((p) => [analyzer.required(p), analyzer.required(p)] as const),
    );
    expect(attempts).toEqual([]);
    for (const [i, [first, second]] of result.entries()) {
      expect(typeof first, PROBE_PATHS[i]).toBe("boolean");
      expect(second, PROBE_PATHS[i]).toBe(first);
    }
    expect(stateOf(analyzer)).toEqual(before);
    // the answers do not depend on the order the paths come in
    const reversed = withoutIo(() => [...PROBE_PATHS].reverse().map((p) => analyzer.required(p))).result;
    expect(reversed.reverse()).toEqual(result.map(([first]) => first));
  });

  it("does not take the paths no analyzer should read", () => {
    for (const path of ["", "../var/lib/dpkg/status", "var/lib/dpkg/status\0.txt"]) {
      expect(analyzer.required(path), JSON.stringify(path)).toBe(false);
    }
  });

  // only the readers that name their endings have this path (no skipped test for the others)
  if (analyzer.extensions !== undefined)
    it("says yes to no path outside the name endings it declares: the walk asks it of no other", () => {
      const base = (p: string, f: (name: string) => string) =>
        p.slice(0, p.lastIndexOf("/") + 1) + f(p.slice(p.lastIndexOf("/") + 1));
      const variants = PROBE_PATHS.flatMap((p) => [
        p,
        `srv/app/${p}`,
        base(p, (n) => n.toUpperCase()),
        base(p, (n) => n.toLowerCase()),
      ]);
      for (const path of variants.filter((p) => analyzer.required(p)))
        expect(analyzer.extensions, path).toContain(nameExtension(path));
    });

  it.each(hostileInputs(analyzer.maxFileSize))(
    "answers %s with a valid output (the same one twice) or a ScanError, never a crash",
    async (_what, content) => {
      for (const path of wanted) {
        let output: unknown;
        try {
          output = await analyzer.analyze({ path, content });
        } catch (err) {
          expect(err, `${path}: ${(err as Error).message}`).toBeInstanceOf(ScanError);
          continue;
        }
        const parsed = AnalyzerOutputSchema.safeParse(output);
        expect(parsed.success, `${path}: ${parsed.error?.message}`).toBe(true);
        // the layer cache stores one answer per file: the same bytes must give it again
        expect(await analyzer.analyze({ path, content }), path).toEqual(output);
        for (const w of parsed.data?.warnings ?? []) expect(w.message.length).toBeLessThan(10_000);
      }
    },
  );

  // only the readers that take chunks have this path (no skipped test for the others)
  if (analyzer.analyzeChunks !== undefined)
    it("answers every hostile input handed over in chunks exactly as it answers the joined bytes", async () => {
      for (const [what, content] of hostileInputs(analyzer.maxFileSize)) {
        // uneven cuts, an empty chunk among them, as a layer walk's chunks come
        const a = Math.floor(content.length / 3);
        const chunks = [
          content.subarray(0, a),
          content.subarray(a, a),
          content.subarray(a, a + 7),
          content.subarray(a + 7),
        ];
        for (const path of wanted)
          expect(await analyzer.analyzeChunks!({ path, chunks }), `${what} at ${path}`).toEqual(
            await analyzer.analyze({ path, content }),
          );
      }
    });
});

describe("the I/O trap the purity check relies on", () => {
  it.each([
    ["fs.existsSync", () => fs.existsSync("etc")],
    ["a named readdirSync import", () => readdirSync(".").length > 0],
    ["fs/promises", () => fsPromises.stat(".") !== undefined],
    ["fetch", () => fetch("http://127.0.0.1:9/") !== undefined],
  ] as const)("stops and names %s", (_what, nosy) => {
    expect(() => withoutIo(nosy)).toThrow(/from required\(\)/);
    expect(fs.existsSync(".")).toBe(true);
  });
});

describe("the analyzer set", () => {
  it("is routed by name ending to exactly the analyzers whose required() says yes", () => {
    const router = new PathRouter(ANALYZERS);
    const paths = [...PROBE_PATHS, ...PROBE_PATHS.map((p) => `srv/app/${p.toUpperCase()}`)];
    for (const path of paths)
      expect(router.wanting(path), path).toEqual(ANALYZERS.filter((a) => a.required(path)));
  });

  it("has one analyzer per name, so the cache key cannot confuse two", () => {
    const names = ANALYZERS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(ANALYZERS.map((a) => [a.name, a] as const))(
    "changes the layer-cache key when %s's version is bumped, and only then",
    (_name, analyzer) => {
      const current = analyzerSetVersion(ANALYZERS);
      const bumped = ANALYZERS.map((a) => (a === analyzer ? { ...a, version: a.version + 1 } : a));
      expect(analyzerSetVersion(bumped)).not.toBe(current);
      expect(analyzerSetVersion([...ANALYZERS].reverse())).toBe(current);
      expect(analyzerSetVersion(ANALYZERS)).toBe(current);
    },
  );
});
