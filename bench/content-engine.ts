// Issue 15's bench: the content engine on the Debian test image and on a Windows image, against
// `gzip -dc` of the same layers, without and with clamd (Debian's real clamd on 127.0.0.1, the test
// signatures); then the cost of a rescan after a rule-set update (the layer cache misses and every
// layer is analysed again) against a cached rescan and the first analysis.
// CPU time: ours from process.cpuUsage, clamd's from /proc/<pid>/stat, gzip's from bash's `time`.
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { analyzeLayer } from "../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../shared/analysis/analyzer.js";
import { contentAnalyzers } from "../shared/analysis/content/index.js";
import { analyzeLayerCached } from "../shared/analysis/inventory-image.js";
import { ANALYZERS, analyzersWithYaraRules } from "../shared/analysis/registry.js";
import type { LayerRef } from "../shared/model/image.js";
import { DEFAULT_LIMITS } from "../shared/model/limits.js";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import type { ImageSource } from "../shared/registry/image-source.js";
import { startTestClamd } from "../test/support/clamd.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { buildPeTestBinaries } from "../test/support/pe-binaries.js";
import { currentVersionKeys, layerBlob, windowsLayerEntries } from "../test/windows/support/windows-image.js";
import { gunzipCpuSeconds } from "./synthetic-layer.js";

interface Layer {
  ref: LayerRef;
  /** the gzip blob on disk (gzip -dc reads it) */
  file: string;
}

const isContent = (a: Analyzer) => a.name === "content" || a.name === "clamav";
const rest = ANALYZERS.filter((a) => !isContent(a));
const withEngine = (engine: readonly Analyzer[]) => [...rest.slice(0, -1), ...engine, ...rest.slice(-1)];

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function analyse(layers: readonly Layer[], analyzers: readonly Analyzer[], clamdPid?: number) {
  const clamdStart = clamdPid ? processCpu(clamdPid) : 0;
  const start = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (const l of layers)
    await analyzeLayer(createReadStream(l.file), l.ref, { analyzers, limits: DEFAULT_LIMITS });
  const used = process.cpuUsage(start);
  return {
    cpu: (used.user + used.system) / 1e6,
    clamd: clamdPid ? processCpu(clamdPid) - clamdStart : 0,
    wall: Number(process.hrtime.bigint() - wall) / 1e9,
  };
}

type Sample = Awaited<ReturnType<typeof analyse>>;
const fastest = (runs: Sample[]) => runs.reduce((a, b) => (a.cpu + a.clamd <= b.cpu + b.clamd ? a : b));

async function measureImage(name: string, layers: readonly Layer[], clamdAddress: string, clamdPid: number) {
  const bytes = layers.reduce((n, l) => n + gunzipSync(readFileSync(l.file)).length, 0);
  let gzip = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++)
    gzip = Math.min(
      gzip,
      layers.reduce((s, l) => s + gunzipCpuSeconds(l.file), 0),
    );
  const variants: [string, readonly Analyzer[], number | undefined][] = [
    ["without the content engine", rest, undefined],
    ["content engine, no clamd", withEngine(contentAnalyzers(undefined)), undefined],
    ["content engine + clamd", withEngine(contentAnalyzers(clamdAddress)), clamdPid],
  ];
  for (const [, set, pid] of variants) await analyse(layers, set, pid); // warm-up: JIT, rule compilation
  const runs = variants.map(() => [] as Sample[]);
  for (let i = 0; i < 7; i++)
    for (const [v, [, set, pid]] of variants.entries()) runs[v]!.push(await analyse(layers, set, pid));
  const best = runs.map(fastest);
  const mb = bytes / 1e6;
  console.log(
    `${name}: ${layers.length} layer(s), ${mb.toFixed(0)} MB uncompressed; gzip -dc ${gzip.toFixed(3)} s CPU (${(mb / gzip).toFixed(0)} MB/s)`,
  );
  for (const [v, [label]] of variants.entries()) {
    const b = best[v]!;
    const cpu = b.cpu + b.clamd;
    const over =
      v === 0
        ? ""
        : `, ${cpu >= best[0]!.cpu ? "+" : ""}${(((cpu - best[0]!.cpu) / best[0]!.cpu) * 100).toFixed(0)} % over the analysis without it`;
    console.log(
      `  ${label.padEnd(28)} ${cpu.toFixed(3)} s CPU${b.clamd ? ` (clamd ${b.clamd.toFixed(2)} s)` : ""}, ${(mb / cpu).toFixed(0)} MB/s: ${(gzip / cpu).toFixed(2)}× gzip's throughput${over}; wall ${b.wall.toFixed(3)} s`,
    );
  }
}

/** A Windows image's application layer: real PE files (mingw-built), 50 MB of data files, SOFTWARE. */
async function windowsLayer(dir: string): Promise<Layer> {
  const pe = await buildPeTestBinaries();
  const files: Record<string, Buffer> = {};
  for (const [n, file] of Object.entries(pe))
    for (let i = 0; i < 10; i++) files[`Program Files/Contoso/bin${i}/${n}.exe`] = readFileSync(file);
  for (let i = 0; i < 50; i++)
    files[`Program Files/Contoso/data/module${i}.bin`] =
      i % 2 === 0 ? randomBytes(1 << 20) : Buffer.alloc(1 << 20, `line ${i}\r\n`);
  const software = currentVersionKeys({
    build: 20348,
    ubr: 2227,
    installationType: "Server Core",
    productName: "Windows Server 2022 Datacenter",
  });
  const { gz } = await layerBlob(windowsLayerEntries({ files, software }));
  const file = path.join(dir, "windows-layer.tar.gz");
  await writeFile(file, gz);
  return {
    file,
    ref: {
      digest: `sha256:${"1".repeat(64)}`,
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      size: gz.length,
    },
  };
}

/** A rule update makes every cached layer miss: the rescan pays the analysis again. */
async function ruleUpdateRescan(layers: readonly Layer[], dir: string) {
  const store = new FsBlobStore(path.join(dir, "cache"));
  const byDigest = new Map(layers.map((l) => [l.ref.digest, l.file]));
  const source: ImageSource = {
    ref: "bench",
    resolve: () => Promise.reject(new Error("not used")),
    openBlob: async (layer) => createReadStream(byDigest.get(layer.digest)!),
  };
  const ruleDir = path.join(dir, "rules");
  await rm(ruleDir, { recursive: true, force: true });
  await mkdir(ruleDir);
  await writeFile(
    path.join(ruleDir, "team.yar"),
    'rule team_marker { strings: $a = "portcullis-bench-team-marker" condition: $a }\n',
  );
  const updated = analyzersWithYaraRules([ruleDir]);
  const pass = async (analyzers: readonly Analyzer[]) => {
    const start = process.hrtime.bigint();
    let cached = 0;
    for (const l of layers)
      if ((await analyzeLayerCached(source, l.ref, { store, analyzers })).cached) cached++;
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cached };
  };
  const first = await pass(ANALYZERS);
  const again = await pass(ANALYZERS);
  const afterUpdate = await pass(updated);
  const afterAgain = await pass(updated);
  console.log(
    `rescan after a rule-set update (a user rule directory added): first analysis ${first.seconds.toFixed(2)} s; cached rescan ${again.seconds.toFixed(3)} s (${again.cached}/${layers.length} layers cached); ` +
      `rescan after the update ${afterUpdate.seconds.toFixed(2)} s (${afterUpdate.cached}/${layers.length} cached: every layer analysed again, ${(afterUpdate.seconds / first.seconds).toFixed(2)}× the first analysis, plus the layers' download in a pipeline); the next rescan ${afterAgain.seconds.toFixed(3)} s (${afterAgain.cached}/${layers.length} cached)`,
  );
}

const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-bench-content-"));
const clamd = await startTestClamd();
try {
  const debian = await buildDebianTestImage();
  const debianLayers: Layer[] = debian.layers.map((l) => ({
    ref: l,
    file: path.join(debian.layoutDir, "blobs", "sha256", l.digest.replace(/^sha256:/, "")),
  }));
  await measureImage("debian test image", debianLayers, clamd.address, clamd.pid);
  await measureImage(
    "windows layer (real PE files, 50 MB data, SOFTWARE)",
    [await windowsLayer(work)],
    clamd.address,
    clamd.pid,
  );
  await ruleUpdateRescan(debianLayers, work);
} finally {
  await clamd.stop();
  await rm(work, { recursive: true, force: true });
}
// the user-rule engine's worker thread and clamd's client sockets are not the bench's to wait for
process.exit(process.exitCode ?? 0);
