// ELF analysis on real gcc-built executables in the real layer walk: a compressed code section and
// UPX's layout are packing findings, an executable in /tmp, /var/tmp or /dev/shm is a drop; the
// same harmless binary in /usr/bin is not. Damaged headers are warnings, bounded, never a crash.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { analyzeElf } from "../../../shared/analysis/content/elf-analysis.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";
import { elfTestBinaries } from "./support/elf-binaries.js";

async function contentOf(entries: Entry[]) {
  const analyzers = contentAnalyzers(undefined);
  const { bytes, ref } = await layerBlob(entries);
  const report = await analyzeLayer(streamOf(bytes), ref, { analyzers, limits: DEFAULT_LIMITS });
  return { fact: ContentFactSchema.parse(squashLayers([report], { analyzers }).facts.content), report };
}

describe("ELF analysis", () => {
  it("flags packed code and drop locations on real executables, and leaves the harmless one in /usr/bin alone", async () => {
    const bin = await elfTestBinaries();
    const { fact, report } = await contentOf([
      { name: "usr/bin/hello", content: bin.hello },
      { name: "usr/bin/packed", content: bin.packed },
      { name: "usr/local/bin/upx-hello", content: bin.upx },
      { name: "tmp/.x/kworker", content: bin.hello },
      { name: "dev/shm/run", content: bin.hello },
      { name: "var/tmp/cache", content: bin.hello },
    ]);
    const byPath = (p: string) => fact.findings.filter((f) => f.path === p).map((f) => f.rule);
    expect(byPath("/usr/bin/hello")).toEqual([]);
    expect(byPath("/usr/bin/packed")).toEqual(["elf/high-entropy-code"]);
    expect(byPath("/usr/local/bin/upx-hello")).toEqual(["elf/packed-upx"]);
    for (const p of ["/tmp/.x/kworker", "/dev/shm/run", "/var/tmp/cache"])
      expect(byPath(p)).toEqual(["elf/unusual-location"]);
    const packed = fact.findings.find((f) => f.path === "/usr/bin/packed")!;
    expect(packed).toMatchObject({ category: "malware", confidence: "suspected", layer: report.digest });
    expect(packed.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(packed.evidence[0]).toMatch(
      /^\.packed: (?:7\.\d\d|8\.00) bits of entropy per byte over 65536 bytes$/,
    );
    expect(fact.findings.find((f) => f.path === "/usr/local/bin/upx-hello")!.evidence[0]).toMatch(
      /^UPX's "UPX!" loader magic at offset 0x[0-9a-f]+$/,
    );
    expect(fact.warnings ?? []).toEqual([]);
  });

  it("answers damaged, truncated and hostile headers with an error, in bounded time", async () => {
    const { hello } = await elfTestBinaries();
    const truncated = hello.subarray(0, 40);
    const sectionsPastEnd = Buffer.from(hello);
    sectionsPastEnd.writeBigUInt64LE(BigInt(hello.length - 10), 0x28);
    const hugeCount = Buffer.from(hello);
    hugeCount.writeUInt16LE(0xffff, 0x3c);
    const badClass = Buffer.from(hello);
    badClass[4] = 7;
    // a section that claims 2^60 bytes: never read, never allocated
    const claims = Buffer.from(hello);
    const shoff = Number(hello.readBigUInt64LE(0x28));
    const shentsize = hello.readUInt16LE(0x3a);
    for (let i = 0; i < hello.readUInt16LE(0x3c); i++) {
      if ((hello.readBigUInt64LE(shoff + i * shentsize + 8) & 4n) !== 0n)
        claims.writeBigUInt64LE(1n << 60n, shoff + i * shentsize + 0x20);
    }
    const noSectionsBogusSegments = Buffer.from(hello);
    noSectionsBogusSegments.writeUInt16LE(0, 0x3c);
    noSectionsBogusSegments.writeBigUInt64LE(BigInt(hello.length * 4), 0x20);
    for (const [bytes, message] of [
      [truncated, /^truncated: the ELF header is incomplete$/],
      [sectionsPastEnd, /section header table lies outside the file/],
      [hugeCount, /section header table lies outside the file|bogus section table/],
      [badClass, /^unknown ELF class 7$/],
      [claims, /claims \d+ bytes at \d+, past the end/],
      [noSectionsBogusSegments, /program header table lies outside the file/],
    ] as const) {
      const result = analyzeElf("usr/bin/x", bytes);
      expect("error" in result && result.error).toMatch(message);
    }
    // random bytes after the magic, many times: an error or no signal, never a throw
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), randomBytes(60 + i * 7)]);
      expect(() => analyzeElf("usr/bin/x", junk)).not.toThrow();
    }
    const { fact } = await contentOf([{ name: "usr/bin/broken", content: sectionsPastEnd }]);
    expect(fact.warnings).toEqual([
      expect.objectContaining({
        code: "elf-unreadable",
        message: expect.stringMatching(/^\/usr\/bin\/broken could not be analyzed as an ELF file: /),
      }),
    ]);
  });
});
