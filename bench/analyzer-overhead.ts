// What each analyzer family costs: the same layers analysed with and without it, CPU time (the
// inflater's threads included), alternating runs, the fastest of each, in one process.
//  - language analyzers over OS-only analysis (issue 13: at most +20 %)
//  - the configuration audit over everything else (issue 14: at most +5 %)
//  - the content engine over everything else, whole and each half alone: its rules (YARA, secrets,
//    PE/ELF signals; issue 15: at most +50 %) and its integrity digests (MD5/SHA-1/SHA-256 for the
//    dpkg, apk and rpm cross-checks), all measured against the same base in one alternating loop,
//    in CPU (every thread) and wall time; the digests on a thread of their own are measured too
// Layers: the real Debian test image (3 layers) and an application layer of real language
// packages: Debian's Maven-built jars (/usr/share/java), the npm test tree and the Go test binary.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { analyzeLayer } from "../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../shared/analysis/analyzer.js";
import { auditAnalyzers } from "../shared/analysis/audit/index.js";
import { DigestThread } from "../shared/analysis/content/digest-thread.js";
import { createContentAnalyzer, YaraEngine } from "../shared/analysis/content/index.js";
import { ANALYZERS } from "../shared/analysis/registry.js";
import { DEFAULT_LIMITS } from "../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../test/analysis/layers.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { buildGoTestBinaries } from "../test/support/go-binaries.js";
import { buildNpmTestTree, dirAsEntries } from "../test/support/npm-tree.js";

const LANGUAGE = new Set(["npm", "pypi", "maven", "go-binary", "nuget", "rubygems", "composer", "cargo"]);
const CONTENT = new Set(["content", "clamav"]);
const isAudit = (a: Analyzer) => auditAnalyzers.includes(a);
const isLanguage = (a: Analyzer) => LANGUAGE.has(a.name);
const isContent = (a: Analyzer) => CONTENT.has(a.name);

const osOnly = ANALYZERS.filter((a) => !isLanguage(a) && !isAudit(a) && !isContent(a));
const osAndLanguage = ANALYZERS.filter((a) => !isAudit(a) && !isContent(a));
const missing = [...LANGUAGE].filter((n) => !ANALYZERS.some((a) => a.name === n));
if (missing.length > 0) console.log(`(not in the registry: ${missing.join(", ")})`);

async function cpuSeconds(layers: (() => Readable)[], analyzers: readonly Analyzer[]): Promise<number> {
  return (await cpuAndWall(layers, analyzers)).cpu;
}

/** CPU (every thread of the process) and wall time of one pass: the digest thread trades one for the other. */
async function cpuAndWall(
  layers: (() => Readable)[],
  analyzers: readonly Analyzer[],
): Promise<{ cpu: number; wall: number }> {
  const start = process.cpuUsage();
  const wall = performance.now();
  for (const open of layers) {
    await analyzeLayer(
      open(),
      { digest: `sha256:${"0".repeat(64)}`, mediaType: "x", size: 0 },
      { analyzers, limits: DEFAULT_LIMITS },
    );
  }
  const used = process.cpuUsage(start);
  return { cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wall) / 1e3 };
}

/** Alternating runs, the fastest of each: interference on a shared machine only ever adds time. */
async function compare(
  family: string,
  layers: (() => Readable)[],
  without: readonly Analyzer[],
  withIt: readonly Analyzer[],
  target: string,
  runs = 7,
): Promise<string> {
  await cpuSeconds(layers, withIt); // warm-up
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await cpuSeconds(layers, without));
    b.push(await cpuSeconds(layers, withIt));
  }
  const [base, more] = [Math.min(...a), Math.min(...b)];
  const pct = ((more - base) / base) * 100;
  return `${family.padEnd(38)} ${base.toFixed(3)} s → ${more.toFixed(3)} s CPU: ${pct >= 0 ? "+" : ""}${pct.toFixed(0)} % (${target})`;
}

async function applicationLayer(): Promise<Buffer> {
  const entries: Entry[] = [];
  const java = "/usr/share/java";
  for (const f of readdirSync(java).sort()) {
    const file = path.join(java, f);
    if (f.endsWith(".jar") && statSync(file).isFile())
      entries.push({ name: `opt/app/lib/${f}`, content: readFileSync(file) });
  }
  const npm = await buildNpmTestTree();
  entries.push(...(await dirAsEntries(npm.dir, "srv/web/")));
  const go = await buildGoTestBinaries();
  entries.push({ name: "usr/local/bin/app", content: readFileSync(go.elf) });
  return (await layerBlob(entries)).bytes;
}

async function main() {
  const debian = await buildDebianTestImage();
  const blobs = debian.layers.map((l) =>
    path.join(debian.layoutDir, "blobs", "sha256", l.digest.replace(/^sha256:/, "")),
  );
  const app = await applicationLayer();
  const image = [...blobs.map((b) => () => createReadStream(b)), () => streamOf(app)];
  const size = blobs.reduce((n, b) => n + statSync(b).size, app.length);
  console.log(
    `debian test image (3 layers) + an application layer (${(app.length / 1e6).toFixed(0)} MB gzip: jars, npm tree, Go binary), ${(size / 1e6).toFixed(0)} MB compressed in all`,
  );
  console.log(
    await compare("language analyzers over OS-only", image, osOnly, osAndLanguage, "issue 13 target ≤ +20 %"),
  );
  const noAudit = ANALYZERS.filter((a) => !isAudit(a));
  console.log(
    await compare("configuration audit over the rest", image, noAudit, ANALYZERS, "issue 14 target ≤ +5 %"),
  );
  const noContent = ANALYZERS.filter((a) => !isContent(a));
  const yara = new YaraEngine();
  const half = (rules: boolean, integrity: boolean, threaded = false) => [
    ...noContent.slice(0, -1),
    createContentAnalyzer({ yara, parts: { rules, integrity }, digests: new DigestThread({ threaded }) }),
    ...noContent.slice(-1),
  ];
  console.log(
    await compareMany("content engine over the rest", image, noContent, [
      ["whole engine", ANALYZERS, "issue 15"],
      ["rules alone", half(true, false), "issue 15 target ≤ +50 %"],
      ["integrity digests alone", half(false, true), "the cross-check's cost"],
      [
        "integrity digests on a thread of their own",
        half(false, true, true),
        "DigestThread({ threaded: true })",
      ],
      [
        "whole engine, its digests on a thread of their own",
        half(true, true, true),
        "both halves, two cores",
      ],
    ]),
  );
}

/**
 * Several variants against one base, each run once per round in turn (base first), the fastest
 * of each: the halves of one engine are compared under the same load.
 */
async function compareMany(
  family: string,
  layers: (() => Readable)[],
  base: readonly Analyzer[],
  variants: readonly [string, readonly Analyzer[], string][],
  runs = 7,
): Promise<string> {
  for (const [, set] of variants) await cpuSeconds(layers, set); // warm-up
  const best = variants.map(() => ({ cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY }));
  const fastest = { cpu: Number.POSITIVE_INFINITY, wall: Number.POSITIVE_INFINITY };
  const keep = (into: { cpu: number; wall: number }, run: { cpu: number; wall: number }) => {
    into.cpu = Math.min(into.cpu, run.cpu);
    into.wall = Math.min(into.wall, run.wall);
  };
  for (let i = 0; i < runs; i++) {
    keep(fastest, await cpuAndWall(layers, base));
    for (const [v, [, set]] of variants.entries()) keep(best[v]!, await cpuAndWall(layers, set));
  }
  const pct = (a: number, b: number) => `${b >= a ? "+" : ""}${(((b - a) / a) * 100).toFixed(0)} %`;
  return variants
    .map(([name, , target], v) => {
      const { cpu, wall } = best[v]!;
      return `${`${family}: ${name}`.padEnd(60)} ${fastest.cpu.toFixed(3)} s → ${cpu.toFixed(3)} s CPU: ${pct(fastest.cpu, cpu)}; wall ${fastest.wall.toFixed(3)} s → ${wall.toFixed(3)} s: ${pct(fastest.wall, wall)} (${target})`;
    })
    .join("\n");
}

await main();
