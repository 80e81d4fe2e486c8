// What each shipped YARA rule costs: every rule compiled alone, then the whole set, over the files the
// content engine hands YARA in a realistic image — the Debian test image's ELF files and scripts, the
// npm test tree (a small app: 83 files, 0.25 MB) and the Go test binary. CPU time, fastest of 5 per rule; the
// per-call overhead is measured on a 64-byte buffer and taken out of the per-byte figure.
// `npx tsx bench/yara-rules.ts` (or `npm run bench yara`).
import { readFileSync } from "node:fs";
import { createReadStream } from "node:fs";
import path from "node:path";
import { compile, type YaraX } from "@litko/yara-x";
import { analyzeLayer } from "../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../shared/analysis/analyzer.js";
import { YaraEngine, yaraScans } from "../shared/analysis/content/yara-engine.js";
import {
  passNeeded,
  ruleBlocks,
  ruleSetPasses,
  scannedBytes,
  type YaraFileKind,
  yaraFileKind,
} from "../shared/analysis/content/yara-rule-sets.js";
import { SHIPPED_YARA_RULES } from "../shared/analysis/content/yara-rules.js";
import { DEFAULT_LIMITS } from "../shared/model/limits.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { buildGoTestBinaries } from "../test/support/go-binaries.js";
import { buildNpmTestTree, dirAsEntries } from "../test/support/npm-tree.js";

interface File {
  path: string;
  content: Buffer;
}

/** The files of the Debian test image's layers that YARA reads, copied out of the walk. */
async function debianFiles(): Promise<File[]> {
  const debian = await buildDebianTestImage();
  const files: File[] = [];
  const collector: Analyzer = {
    name: "yara-corpus",
    version: 1,
    maxFileSize: 64 * 1024 * 1024,
    readsEveryFile: true,
    required: () => true,
    analyze({ path: p, content }) {
      if (yaraScans(p, content)) files.push({ path: p, content: Buffer.from(content) });
      return {};
    },
  };
  for (const layer of debian.layers) {
    const blob = path.join(debian.layoutDir, "blobs", "sha256", layer.digest.replace(/^sha256:/, ""));
    await analyzeLayer(createReadStream(blob), layer, { analyzers: [collector], limits: DEFAULT_LIMITS });
  }
  return files;
}

async function appFiles(): Promise<File[]> {
  const npm = await buildNpmTestTree();
  const entries = await dirAsEntries(npm.dir, "srv/web/");
  const files: File[] = [];
  for (const e of entries)
    if ("content" in e && e.content !== undefined) {
      const content = Buffer.from(e.content);
      if (yaraScans(e.name, content)) files.push({ path: e.name, content });
    }
  const go = await buildGoTestBinaries();
  files.push({ path: "usr/local/bin/app", content: readFileSync(go.elf) });
  return files;
}

const cpu = (f: () => void): number => {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1e3; // ns
};
const fastest = (runs: number, f: () => void) => Math.min(...Array.from({ length: runs }, () => cpu(f)));

/** ns per call (64-byte buffer) and ns per byte over the files (the calls' overhead taken out). */
function measure(scan: (b: Buffer) => unknown, files: Buffer[], runs = 5): { call: number; perByte: number } {
  const tiny = Buffer.alloc(64, 0x20);
  const calls = 2000;
  scan(tiny);
  const call =
    fastest(runs, () => {
      for (let i = 0; i < calls; i++) scan(tiny);
    }) / calls;
  const bytes = files.reduce((n, f) => n + f.length, 0);
  const total = fastest(runs, () => {
    for (const f of files) scan(f);
  });
  return { call, perByte: Math.max(0, total - call * files.length) / bytes };
}

async function main() {
  const all = [...(await debianFiles()), ...(await appFiles())];
  const groups = new Map<string, Buffer[]>();
  for (const f of all) {
    const k = yaraFileKind(f.content);
    groups.set(k, [...(groups.get(k) ?? []), f.content]);
  }
  const size = (bs: Buffer[]) => bs.reduce((n, b) => n + b.length, 0);
  console.log(
    `corpus (the files YARA reads), by kind: ${[...groups].map(([k, bs]) => `${k} ${bs.length} files ${(size(bs) / 1e6).toFixed(1)} MB`).join(", ")}`,
  );
  const kinds = [...groups.keys()].sort();
  console.log(
    `${"rules".padEnd(40)} ${"ns/call".padStart(8)} ${kinds.map((k) => `${k} ns/B`.padStart(14)).join(" ")} ${"ms".padStart(6)}`,
  );
  const row = (name: string, scan: (b: Buffer) => unknown, only?: string, from = groups) => {
    let totalNs = 0;
    let call = 0;
    const cells = kinds.map((k) => {
      if (only !== undefined && k !== only) return "".padStart(14);
      const files = from.get(k)!;
      const m = measure(scan, files);
      call = m.call;
      totalNs += m.perByte * size(files) + m.call * files.length;
      return m.perByte.toFixed(2).padStart(14);
    });
    console.log(
      `${name.padEnd(40)} ${call.toFixed(0).padStart(8)} ${cells.join(" ")} ${(totalNs / 1e6).toFixed(0).padStart(6)}`,
    );
  };
  const compiled = (source: string) => {
    const rules: YaraX = compile(source);
    rules.setMaxMatchesPerPattern(16);
    return (b: Buffer) => rules.scan(b);
  };
  console.log("-- each shipped rule alone, on every kind");
  for (const { name, text } of ruleBlocks(SHIPPED_YARA_RULES)) row(name, compiled(text));
  row("(every rule in one set, as before #15)", compiled(SHIPPED_YARA_RULES));
  // what the passes read: an ELF file's string ranges joined (elfStringRanges), other kinds whole
  const read = new Map(
    [...groups].map(([k, bs]) => [k, bs.map((b) => Buffer.from(scannedBytes(k as YaraFileKind, b).bytes))]),
  );
  const elf = groups.get("elf") ?? [];
  if (elf.length > 0) {
    const kept = size(read.get("elf")!) / size(elf);
    console.log(
      `-- an ELF's string ranges: ${(kept * 100).toFixed(0)} % of its bytes (not its code nor its symbol, relocation, unwind and other toolchain tables)`,
    );
    row("elf: finding and joining them (per file byte)", (b) => scannedBytes("elf", b), "elf");
  }
  console.log(
    "-- each kind's passes (yara-rule-sets.ts), on what they read of files of that kind (ns per byte read)",
  );
  const passes = ruleSetPasses();
  for (const kind of kinds)
    (passes[kind as keyof typeof passes] ?? []).forEach((pass, i) => {
      const names = ruleBlocks(pass.source).map((b) => b.name);
      const scan = compiled(pass.source);
      // a gated pass costs its gate's Buffer.indexOf, and its scan only on the files the gate lets through
      row(
        `${kind} ${i + 1}: ${names.length > 2 ? `${names.length} rules` : names.join(", ")}${pass.gate ? " (gated)" : ""}`,
        (b) => passNeeded(pass, b) && scan(b),
        kind,
        read,
      );
    });
  const engine = new YaraEngine();
  row("(the engine: every kind's passes, per file byte)", (b) => engine.scan(b));
}

await main();
