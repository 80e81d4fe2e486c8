// Static PE analysis on real executables compiled at test time by mingw-w64: injection and hollowing
// imports, packing, drop locations — and the harmless ones stay quiet; hostile headers are warnings.
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { analyzePe } from "../../../shared/analysis/content/pe-analysis.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { buildPeTestBinaries, type PeTestBinary } from "../../support/pe-binaries.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

let exe: Record<PeTestBinary, Buffer>;
beforeAll(async () => {
  const paths = await buildPeTestBinaries();
  exe = {} as Record<PeTestBinary, Buffer>;
  for (const [name, file] of Object.entries(paths)) exe[name as PeTestBinary] = await readFile(file);
}, 120_000);

async function contentOf(entries: Entry[]) {
  const analyzers = contentAnalyzers(undefined);
  const blob = await layerBlob(entries);
  const layer = await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS });
  const fact = ContentFactSchema.parse(squashLayers([layer], { analyzers }).facts.content);
  return { ...fact, layer: blob.ref.digest };
}

describe("PE import analysis", () => {
  it("flags the injector and the hollower by their imports, in a Windows layer's Files/, with the evidence", async () => {
    const { findings, layer } = await contentOf([
      { name: "Files/Program Files/Tools/inject.exe", content: exe.injector },
      { name: "Files/Program Files/Tools/hollow.exe", content: exe.hollower },
      { name: "Files/Program Files/Tools/inspect.exe", content: exe.inspector },
      { name: "Files/Program Files/Tools/hello.exe", content: exe.hello },
    ]);
    const pe = findings.filter((f) => f.rule.startsWith("pe/"));
    expect(pe.map((f) => [f.path, f.rule, f.category])).toEqual([
      ["/Files/Program Files/Tools/hollow.exe", "pe/process-hollowing-imports", "injection"],
      ["/Files/Program Files/Tools/inject.exe", "pe/process-injection-imports", "injection"],
    ]);
    const inject = pe.find((f) => f.path.endsWith("inject.exe"))!;
    expect(inject.evidence).toEqual([
      "imports VirtualAllocEx (kernel32.dll), WriteProcessMemory (kernel32.dll), CreateRemoteThread (kernel32.dll)",
    ]);
    expect(inject.layer).toBe(layer);
    expect(inject.sha256).toMatch(/^[0-9a-f]{64}$/);
    // the YARA rule on the same traits agrees, as a second portcullis rule on the same file
    expect(findings.filter((f) => f.path.endsWith("inject.exe")).map((f) => f.rule)).toContain(
      "yara/windows-process-injection",
    );
    expect(findings.filter((f) => /inspect|hello/.test(f.path))).toEqual([]);
  });

  it("flags a packed executable and an executable in a drop location", async () => {
    const { findings } = await contentOf([
      { name: "Files/Program Files/App/app.exe", content: exe.packed },
      { name: "Files/Users/Public/updater.exe", content: exe.hello },
    ]);
    expect(findings.map((f) => [f.path, f.rule])).toEqual([
      ["/Files/Program Files/App/app.exe", "pe/high-entropy-code"],
      ["/Files/Program Files/App/app.exe", "pe/packed"],
      ["/Files/Users/Public/updater.exe", "pe/unusual-location"],
    ]);
    const entropy = findings.find((f) => f.rule === "pe/high-entropy-code")!;
    expect(entropy.evidence[0]).toMatch(
      /^executable section UPX1: 7\.\d\d bits of entropy per byte over 16384 bytes$/,
    );
  });
});

describe("hostile PE input", () => {
  const withSectionField = (base: Buffer, field: number, value: number, count?: number) => {
    const copy = Buffer.from(base);
    const nt = copy.readUInt32LE(0x3c);
    if (count !== undefined) copy.writeUInt16LE(count, nt + 6);
    const table = nt + 24 + copy.readUInt16LE(nt + 20);
    copy.writeUInt32LE(value, table + field);
    return copy;
  };

  it.each([
    [
      "truncated mid-section",
      () => exe.injector.subarray(0, 3000),
      /truncated or bogus section table: section ".text"/,
    ],
    [
      "truncated inside the headers",
      () => exe.injector.subarray(0, 0x90),
      /truncated: the (PE header|section table)/,
    ],
    [
      "a section claiming 4 GB",
      () => withSectionField(exe.injector, 16, 0xfffffff0),
      /claims 4294967280 bytes/,
    ],
    ["65535 sections", () => withSectionField(exe.injector, 16, 0, 65_535), /65535 sections/],
    [
      "overlapping sections, each the whole file",
      () => {
        const copy = Buffer.from(exe.injector);
        const nt = copy.readUInt32LE(0x3c);
        const table = nt + 24 + copy.readUInt16LE(nt + 20);
        const count = copy.readUInt16LE(nt + 6);
        for (let i = 0; i < count; i++) {
          copy.writeUInt32LE(copy.length - 1, table + i * 40 + 16);
          copy.writeUInt32LE(1, table + i * 40 + 20);
        }
        return copy;
      },
      /sections claim \d+ bytes of a \d+-byte file/,
    ],
    [
      "an import table pointing nowhere",
      () => {
        const copy = Buffer.from(exe.injector);
        const nt = copy.readUInt32LE(0x3c);
        // optional header (PE32+) data directory 1 = import: RVA at +120 from the optional header
        copy.writeUInt32LE(0x7fff0000, nt + 24 + 120);
        return copy;
      },
      undefined,
    ],
  ] as const)("answers %s with a warning or nothing, never a crash", (_what, make, message) => {
    const before = process.memoryUsage().arrayBuffers;
    const result = analyzePe("Files/x.exe", make());
    if (message === undefined) expect(result).toEqual({ signals: [] });
    else expect("error" in result && result.error).toMatch(message);
    // pe-library never got to allocate what the header claimed
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("says which file could not be analyzed, in the content warnings, and still hashes it", async () => {
    const { findings, warnings } = await contentOf([
      { name: "Files/Program Files/App/broken.exe", content: exe.injector.subarray(0, 3000) },
      { name: "Files/Program Files/App/stub.exe", content: "MZ" },
    ]);
    expect(findings).toEqual([]);
    expect(warnings).toEqual([
      expect.objectContaining({
        code: "pe-unreadable",
        message: expect.stringMatching(
          /^\/Files\/Program Files\/App\/broken\.exe could not be analyzed as a PE file: truncated/,
        ),
      }),
    ]);
  });
});
