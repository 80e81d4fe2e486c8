import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXECUTABLE_PLACES, isExecutablePlace } from "../../../shared/analysis/executable-places.js";
import { goAnalyzer, identifyGoPackage } from "../../../shared/analysis/go/go-analyzer.js";
import { corpusPath } from "../../support/corpus.js";
import { buildGoTestBinaries, type GoTestBinaries, modulesFromGoVersion } from "../../support/go-binaries.js";

let bins: GoTestBinaries;
beforeAll(async () => {
  bins = await buildGoTestBinaries();
}, 600_000);

const read = async (path: string, content: Buffer) => {
  const out = await goAnalyzer.analyze({ path, content });
  return { ids: (out.packages ?? []).map((p) => `${p.name}@${p.version}`).sort(), out };
};

describe("Go binaries", () => {
  it("reads the module list of an ELF binary as go version -m does, replacements applied", async () => {
    const { ids, out } = await read("usr/local/bin/app", readFileSync(bins.elf));
    expect(ids).toEqual(modulesFromGoVersion(bins.expected.elf));
    expect(ids).toContain("example.com/fork@v1.2.4");
    expect(out.packages?.every((p) => p.ecosystem === "Go")).toBe(true);
  });

  it("reads a Windows PE build the same way", async () => {
    const { ids } = await read("Files/app/app.exe", readFileSync(bins.pe));
    expect(ids).toEqual(modulesFromGoVersion(bins.expected.pe));
  });

  it("reports a Debian-built Go binary's toolchain as stdlib, as go version -m reads it", async () => {
    const bin = "/usr/bin/docker-registry";
    const expected = modulesFromGoVersion(execFileSync("go", ["version", "-m", bin]).toString());
    expect(expected[0]).toMatch(/^stdlib@1\./);
    expect((await read("usr/bin/docker-registry", readFileSync(bin))).ids).toEqual(expected);
  });

  it("names modules and the standard library as OSV's Go ecosystem and golang purls do", () => {
    expect(identifyGoPackage({ kind: "go-module", name: "golang.org/x/text", version: "v0.3.7" }).purl).toBe(
      "pkg:golang/golang.org/x/text@v0.3.7",
    );
    expect(identifyGoPackage({ kind: "go-module", name: "stdlib", version: "1.19.8" }).purl).toBe(
      "pkg:golang/stdlib@v1.19.8",
    );
  });
});

describe("go.mod", () => {
  it("lists what go mod edit -json reads from a go.mod (Trivy's gomod fixture), indirect included", async () => {
    const file = corpusPath("osv/pairs/trivy-integration/gomod/input/go.mod");
    const parsed = JSON.parse(execFileSync("go", ["mod", "edit", "-json", file]).toString()) as {
      Require: { Path: string; Version: string }[];
    };
    const expected = parsed.Require.map((r) => `${r.Path}@${r.Version}`).sort();
    expect((await read("src/app/go.mod", readFileSync(file))).ids).toEqual(expected);
  });

  it("applies replace directives as go mod edit -json reports them", async () => {
    const text = [
      "module example.com/app",
      "",
      "go 1.21",
      "",
      "require (",
      "\texample.com/a v1.0.0",
      "\texample.com/b v1.1.0 // indirect",
      ")",
      "",
      "require example.com/c v0.3.0",
      "",
      "replace example.com/a => example.com/a-fork v1.0.1",
      "",
      "replace example.com/b => ../b",
      "",
    ].join("\n");
    const dir = mkdtempSync(path.join(tmpdir(), "portcullis-gomod-"));
    try {
      writeFileSync(path.join(dir, "go.mod"), text);
      const parsed = JSON.parse(execFileSync("go", ["mod", "edit", "-json"], { cwd: dir }).toString()) as {
        Require: { Path: string; Version: string }[];
        Replace: { Old: { Path: string }; New: { Path: string; Version?: string } }[];
      };
      const expected = parsed.Require.flatMap((r) => {
        const rep = parsed.Replace.find((x) => x.Old.Path === r.Path);
        if (!rep) return [`${r.Path}@${r.Version}`];
        return rep.New.Version ? [`${rep.New.Path}@${rep.New.Version}`] : [];
      }).sort();
      expect((await read("src/go.mod", Buffer.from(text))).ids).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(goAnalyzer.required("root/go/pkg/mod/example.com/a@v1.0.0/go.mod")).toBe(false);
  });
});

describe("Go binaries, hostile", () => {
  it("ignores files that are not executables and warns about damaged build info", async () => {
    expect(
      await goAnalyzer.analyze({ path: "usr/bin/x", content: Buffer.from("#!/bin/sh\necho hi\n") }),
    ).toEqual({});
    // shorter than any magic: nothing to read, nothing thrown
    for (const tiny of ["", "\u007f", "MZ"]) {
      expect(await goAnalyzer.analyze({ path: "app/x", content: Buffer.from(tiny) })).toEqual({});
    }
    const elf = readFileSync(bins.elf);
    const at = elf.indexOf(Buffer.from("\xff Go buildinf:", "latin1"));
    for (const damage of [
      (b: Buffer) => b.fill(0xff, at + 32, at + 40), // an endless length varint
      (b: Buffer) => b.writeUInt32BE(0xffffff7f, at + 33 + b[at + 32]!), // a module list longer than the file
    ]) {
      const copy = Buffer.from(elf);
      damage(copy);
      const out = await goAnalyzer.analyze({ path: "usr/bin/app", content: copy });
      expect(out.packages ?? []).toEqual([]);
      expect(out.warnings?.[0]?.code).toBe("go-buildinfo-unreadable");
    }
    const truncated = elf.subarray(0, at + 20);
    expect((await goAnalyzer.analyze({ path: "usr/bin/app", content: truncated })).packages ?? []).toEqual(
      [],
    );
  });

  it("reads a binary from the layer walk's chunks cut anywhere (through the marker, the varints, the list) as whole", async () => {
    const elf = readFileSync(bins.elf);
    const at = elf.indexOf(Buffer.from("\xff Go buildinf:", "latin1"));
    const whole = await goAnalyzer.analyze({ path: "usr/bin/app", content: elf });
    expect(whole.packages?.length).toBeGreaterThan(1);
    const twoAt = (cut: number) => [elf.subarray(0, cut), elf.subarray(cut)];
    for (let cut = at - 20; cut <= at + 200; cut++)
      expect(
        await goAnalyzer.analyzeChunks!({ path: "usr/bin/app", chunks: twoAt(cut) }),
        `cut at ${cut}`,
      ).toEqual(whole);
    const pages = Array.from({ length: Math.ceil(elf.length / 4093) }, (_, i) =>
      elf.subarray(i * 4093, (i + 1) * 4093),
    );
    expect(await goAnalyzer.analyzeChunks!({ path: "usr/bin/app", chunks: pages })).toEqual(whole);
    // damage and truncation read the same in chunks as whole
    const damaged = Buffer.from(elf).fill(0xff, at + 32, at + 40);
    for (const content of [damaged, elf.subarray(0, at + 20), elf.subarray(0, at + 40)]) {
      const chunks = [content.subarray(0, at + 16), content.subarray(at + 16)];
      expect(await goAnalyzer.analyzeChunks!({ path: "usr/bin/app", chunks })).toEqual(
        await goAnalyzer.analyze({ path: "usr/bin/app", content }),
      );
    }
  });

  it("selects executables without a regex exactly as the EXECUTABLE_PLACES pattern does", () => {
    const dirs = [
      "bin",
      "sbin",
      "BIN",
      "Sbin",
      "libexec",
      "ko-app",
      "App",
      "xbin",
      "bins",
      "abin",
      "lib",
      "",
      "bin/x",
    ];
    const names = ["x", "busybox", "x.y", "", ".x", "X.EXE", "a.exe", "a.Exe", "exe", ".exe", "x.exe/y"];
    for (const prefix of ["", "usr/", "/", "a/b/", "sbin.d/"])
      for (const dir of dirs)
        for (const name of names) {
          const p = `${prefix}${dir}${dir ? "/" : ""}${name}`;
          expect(isExecutablePlace(p), JSON.stringify(p)).toBe(EXECUTABLE_PLACES.test(p));
        }
  });

  it("selects the places executables live, the OS's own bin directories included, not every file", () => {
    for (const p of [
      "usr/bin/docker-registry",
      "bin/busybox",
      "usr/local/bin/app",
      "usr/local/sbin/x",
      "ko-app/server",
      "opt/x/bin/y",
      "Files/Program Files/x/app.exe",
    ]) {
      expect(goAnalyzer.required(p)).toBe(true);
    }
    for (const p of ["usr/share/doc/x", "etc/passwd", "usr/bin/script.py"])
      expect(goAnalyzer.required(p)).toBe(false);
  });
});
