import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import type { Analyzer, AnalyzerFile } from "../../shared/analysis/analyzer.js";
import { ANALYZERS as ALL_ANALYZERS } from "../../shared/analysis/registry.js";
import { ScanError } from "../../shared/model/errors.js";
import { DEFAULT_LIMITS, type Limits } from "../../shared/model/limits.js";
import {
  type Compression,
  compress,
  dockerSaveLayers,
  fixture,
  layerBlob,
  refFor,
  streamOf,
  tarOf,
} from "./layers.js";
import { corpusPath } from "../support/corpus.js";

// the walk's tests look at the package analyzers' files; the content engine (which reads every file) has its own
const ANALYZERS = ALL_ANALYZERS.filter((a) => a.name !== "content");

/** An analyzer that records every file it is handed. */
function recorder(required: (path: string) => boolean = () => true, maxFileSize = 1 << 20) {
  const seen: AnalyzerFile[] = [];
  const analyzer: Analyzer = {
    name: "recorder",
    version: 1,
    maxFileSize,
    required,
    analyze(file) {
      seen.push(file);
      return { data: file.content.length };
    },
  };
  return { analyzer, seen };
}

const analyze = (
  bytes: Buffer,
  analyzers: readonly Analyzer[] = ANALYZERS,
  limits: Limits = DEFAULT_LIMITS,
) => analyzeLayer(streamOf(bytes), refFor(bytes), { analyzers, limits });

async function rejection(p: Promise<unknown>): Promise<ScanError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScanError);
  return err as ScanError;
}

describe("analyzeLayer", () => {
  it.each(["gzip", "zstd", "none"] as Compression[])(
    "detects %s from the magic bytes and reads dpkg + os",
    async (c) => {
      const blob = await layerBlob(
        [
          { name: "etc/", dir: true },
          { name: "./etc/os-release", content: await fixture("pkgdb/dpkg/syft/image-dpkg/etc/os-release") },
          { name: "var/lib/dpkg/status", content: await fixture("pkgdb/dpkg/scalibr/valid") },
          // a big file no package analyzer reads (binaries in bin directories are read for Go and cargo build info)
          { name: "usr/share/misc/big", content: Buffer.alloc(300_000, 7) },
        ],
        c,
      );
      // the media type says gzip whatever the bytes are: magic bytes decide
      const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
        analyzers: ANALYZERS,
        limits: DEFAULT_LIMITS,
      });
      expect(report.compression).toBe(c);
      expect(report.entries).toBe(4);
      expect(report.files.map((f) => `${f.analyzer}:${f.path}`)).toEqual([
        "os:etc/os-release",
        "dpkg:var/lib/dpkg/status",
      ]);
      expect(report.files[1]?.output.packages).toHaveLength(7);
      expect(report.files[0]?.output.os?.codename).toBe("bookworm");
      expect(report.warnings).toEqual([]);
    },
  );

  it("hands each analyzer only the files it requires, as clean names", async () => {
    const { analyzer, seen } = recorder((p) => p.startsWith("opt/"));
    const blob = await layerBlob([
      { name: "/opt/a", content: "a" },
      { name: "./opt//b/./c", content: "c" },
      { name: "opt/x/../d", content: "d" },
      { name: "etc/other", content: "no" },
    ]);
    const report = await analyze(blob.bytes, [analyzer]);
    expect(seen.map((f) => [f.path, f.content.toString()])).toEqual([
      ["opt/a", "a"],
      ["opt/b/c", "c"],
      ["opt/d", "d"],
    ]);
    expect(report.files.map((f) => f.output.data)).toEqual([1, 1, 1]);
  });

  it("records whiteouts and opaque directories without handing them to analyzers", async () => {
    const { analyzer, seen } = recorder();
    const blob = await layerBlob([
      { name: "etc/.wh.motd", content: "" },
      { name: "var/lib/apt/lists/.wh..wh..opq", content: "" },
      { name: ".wh.toplevel", content: "" },
      { name: "x/.wh..wh.plnk", dir: true },
    ]);
    const report = await analyze(blob.bytes, [analyzer]);
    expect(report.whiteouts).toEqual(["etc/motd", "toplevel"]);
    expect(report.opaqueDirs).toEqual(["var/lib/apt/lists"]);
    expect(seen).toEqual([]);
  });

  it("warns about and skips a file larger than the analyzer reads", async () => {
    const blob = await layerBlob([
      { name: "var/lib/dpkg/status", content: await fixture("pkgdb/dpkg/scalibr/valid") },
      { name: "etc/os-release", content: Buffer.alloc(100_000, "#") },
    ]);
    const report = await analyze(blob.bytes);
    expect(report.files.map((f) => f.path)).toEqual(["var/lib/dpkg/status"]);
    expect(report.warnings).toMatchObject([
      { code: "file-too-large", path: "etc/os-release", layer: blob.ref.digest },
    ]);

    const tight = await analyze(blob.bytes, ANALYZERS, { ...DEFAULT_LIMITS, maxFileBytes: 1000 });
    expect(tight.files).toEqual([]);
    expect(tight.warnings.map((w) => w.path)).toEqual(["var/lib/dpkg/status", "etc/os-release"]);
  });

  it("records links at analysed paths as names, and analyses a hardlink to a file it read", async () => {
    const blob = await layerBlob([
      { name: "usr/lib/os-release", content: "ID=alpine\nVERSION_ID=3.20.3\n" },
      { name: "etc/os-release", symlink: "../usr/lib/os-release" },
      { name: "lib/apk/db/installed", content: "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n" },
      { name: "usr/lib/apk/db/installed", hardlink: "lib/apk/db/installed" },
      // a link where no path-specific analyzer reads is not recorded
      { name: "usr/share/doc/sh", symlink: "/bin/busybox" },
    ]);
    const report = await analyze(blob.bytes);
    expect(report.links).toEqual([
      { path: "etc/os-release", type: "symlink", target: "../usr/lib/os-release" },
      { path: "usr/lib/apk/db/installed", type: "hardlink", target: "lib/apk/db/installed" },
    ]);
    // one path may be read by several analyzers (apk and the audit both read the apk database)
    expect([...new Set(report.files.map((f) => f.path))]).toEqual([
      "usr/lib/os-release",
      "lib/apk/db/installed",
      "usr/lib/apk/db/installed",
    ]);
  });

  it("rejects a truncated gzip stream with a clear permanent error", async () => {
    const blob = await layerBlob([
      { name: "var/lib/dpkg/status", content: await fixture("pkgdb/dpkg/scalibr/valid") },
    ]);
    const err = await rejection(analyze(blob.bytes.subarray(0, blob.bytes.length - 40)));
    expect(err.code).toBe("layer-corrupt");
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/truncated or corrupt gzip/);
  });

  it("rejects a truncated zstd stream", async () => {
    const blob = await layerBlob([{ name: "a", content: Buffer.alloc(200_000, 1) }], "zstd");
    const err = await rejection(analyze(blob.bytes.subarray(0, blob.bytes.length - 10)));
    expect(err.code).toBe("layer-corrupt");
  });

  it("rejects a corrupt tar header", async () => {
    const tar = await tarOf([
      { name: "a", content: "x" },
      { name: "b", content: "y" },
    ]);
    tar.fill(0x41, 512 + 512 + 100, 512 + 512 + 156); // garbage over the second header's mode/size/checksum
    const err = await rejection(analyze(compress(tar, "gzip")));
    expect(err.code).toBe("layer-corrupt");
    expect(err.message).toMatch(/corrupt or truncated tar/);
  });

  it("rejects a tar cut in the middle of a file", async () => {
    const tar = await tarOf([{ name: "a", content: Buffer.alloc(10_000, 1) }]);
    const err = await rejection(analyze(tar.subarray(0, 4096)));
    expect(err.code).toBe("layer-corrupt");
  });

  it("reads a blob shorter than the magic bytes without hanging", async () => {
    expect((await analyze(Buffer.alloc(0))).entries).toBe(0);
    expect((await rejection(analyze(Buffer.from("abc")))).code).toBe("layer-corrupt");
    expect((await rejection(analyze(Buffer.from([0x1f, 0x8b])))).code).toBe("layer-corrupt");
  });

  it("refuses bzip2 layers by their magic", async () => {
    const err = await rejection(analyze(Buffer.from("BZh91AY&SY....")));
    expect(err.code).toBe("layer-unsupported-compression");
  });

  it("passes a source error such as a digest mismatch through unchanged", async () => {
    const blob = await layerBlob([{ name: "a", content: "x" }]);
    const source = new Readable({
      read() {
        this.push(blob.bytes);
        this.destroy(new ScanError("digest-mismatch", "bytes do not match sha256:…"));
      },
    });
    const err = await rejection(
      analyzeLayer(source, blob.ref, { analyzers: ANALYZERS, limits: DEFAULT_LIMITS }),
    );
    expect(err.code).toBe("digest-mismatch");
  });

  it("stops a decompression bomb at maxLayerBytes with bounded memory", async () => {
    // 1 GiB of zeros, gzip-compressed as it streams: never held in memory on either side
    const zeros = Buffer.alloc(1 << 20);
    let sent = 0;
    const plain = new Readable({
      read() {
        this.push(sent++ < 1024 ? zeros : null);
      },
    });
    const gz = plain.pipe(createGzip({ level: 1 }));
    const before = process.memoryUsage().rss;
    const limits = { ...DEFAULT_LIMITS, maxLayerBytes: 64 * 1024 * 1024 };
    const err = await rejection(
      analyzeLayer(gz, refFor(Buffer.from("bomb")), { analyzers: ANALYZERS, limits }),
    );
    expect(err.code).toBe("layer-too-large");
    expect(err.permanent).toBe(true);
    expect(sent).toBeLessThan(200); // stopped near the limit, not after the whole GiB
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it("stops at maxLayerEntries", async () => {
    const blob = await layerBlob(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: "" })));
    const err = await rejection(analyze(blob.bytes, ANALYZERS, { ...DEFAULT_LIMITS, maxLayerEntries: 10 }));
    expect(err.code).toBe("layer-too-many-entries");
  });

  it("turns an analyzer that throws into a warning", async () => {
    const broken: Analyzer = {
      name: "broken",
      version: 1,
      maxFileSize: 1000,
      required: () => true,
      analyze: () => {
        throw new Error("boom");
      },
    };
    const blob = await layerBlob([{ name: "a", content: "x" }]);
    const report = await analyze(blob.bytes, [broken]);
    expect(report.warnings).toMatchObject([{ code: "analyzer-failed", path: "a" }]);
  });
});

describe("hostile layers from the corpus", () => {
  it("names scalibr's escape.tar entries inside the root and follows none of its links", async () => {
    const { analyzer, seen } = recorder();
    const bytes = await fixture("images/scalibr-unpack/escape.tar");
    const report = await analyze(bytes, [analyzer]);
    expect(seen.map((f) => f.path)).toEqual(["escape/poc.txt"]);
    expect(report.links.map((l) => l.path)).toEqual([
      "usr/share/doc/a/copyright",
      "trampoline",
      "usr/share/doc/b/copyright",
      "escape",
      "usr/share/doc/c/copyright",
    ]);
  });

  it.each([
    [
      "scalibr-layerscanning/symlink-attack.tar",
      ["dir1/attack-symlink-absolute.txt", "dir1/attack-symlink.txt"],
    ],
    ["scalibr-layerscanning/symlink-cycle.tar", []],
    ["scalibr-layerscanning/symlink-depth-exceeded.tar", []],
    ["scalibr-unpack/symlinks.tar", ["dir1/attack-symlink-absolute.txt", "dir1/attack-symlink.txt"]],
  ])("analyses every layer of %s without following or escaping", async (file, escapes) => {
    const layers = await dockerSaveLayers(corpusPath("images", file));
    const { analyzer, seen } = recorder();
    const warned: string[] = [];
    for (const layer of layers) {
      const report = await analyze(layer.bytes, [analyzer]);
      expect(report.compression).toBe("none");
      for (const w of report.warnings) {
        expect(w.code).toBe("link-escape");
        warned.push(w.path!);
      }
      for (const l of report.links) expect(l.path).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/);
    }
    expect(warned.sort()).toEqual(escapes);
    for (const f of seen) expect(f.content.toString()).toMatch(/sample/);
  });
});
