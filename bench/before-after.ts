// Before/after in one process: another checkout's layer walk and analyzers (argv[2], e.g. an
// `git archive <base> | tar -x` with node_modules linked in) against this tree's, run alternately and
// the best of each kept, so a loaded machine's swings hit both alike. Not in `npm run bench` (needs
// the other tree): `node --import tsx bench/before-after.ts /tmp/base [runs]`.
import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import * as afterWalk from "../shared/analysis/analyze-layer.js";
import * as afterReg from "../shared/analysis/registry.js";
import { DEFAULT_LIMITS } from "../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../test/analysis/layers.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { buildGoTestBinaries } from "../test/support/go-binaries.js";
import { buildNpmTestTree, dirAsEntries } from "../test/support/npm-tree.js";
import { gunzipCpuSeconds, syntheticLayer } from "./synthetic-layer.js";
const base = process.argv[2];
if (base === undefined) {
  console.error("usage: bench/before-after.ts <other checkout> [runs]");
  process.exit(2);
}
const beforeWalk = (await import(
  path.join(path.resolve(base), "shared/analysis/analyze-layer.ts")
)) as typeof afterWalk;
const beforeReg = (await import(
  path.join(path.resolve(base), "shared/analysis/registry.ts")
)) as typeof afterReg;
type A = typeof afterReg.ANALYZERS;
const nc = (as: A) => as.filter((a) => a.name !== "content" && a.name !== "clamav");
const versions = {
  before: { walk: beforeWalk.analyzeLayer, all: beforeReg.ANALYZERS, none: nc(beforeReg.ANALYZERS) },
  after: { walk: afterWalk.analyzeLayer, all: afterReg.ANALYZERS, none: nc(afterReg.ANALYZERS) },
};
async function cpu(walk: typeof afterWalk.analyzeLayer, layers: (() => Readable)[], analyzers: A) {
  const c = process.cpuUsage();
  for (const open of layers)
    await walk(
      open(),
      { digest: `sha256:${"0".repeat(64)}`, mediaType: "x", size: 0 },
      { analyzers, limits: DEFAULT_LIMITS },
    );
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1e6;
}
const entries: Entry[] = [];
for (const f of readdirSync("/usr/share/java").sort()) {
  const file = path.join("/usr/share/java", f);
  if (f.endsWith(".jar") && statSync(file).isFile())
    entries.push({ name: `opt/app/lib/${f}`, content: readFileSync(file) });
}
const npm = await buildNpmTestTree();
entries.push(...(await dirAsEntries(npm.dir, "srv/web/")));
const go = await buildGoTestBinaries();
entries.push({ name: "usr/local/bin/app", content: readFileSync(go.elf) });
const app = (await layerBlob(entries)).bytes;
const debian = await buildDebianTestImage();
const blobs = debian.layers.map((l) =>
  path.join(debian.layoutDir, "blobs", "sha256", l.digest.replace(/^sha256:/, "")),
);
const image = [...blobs.map((b) => () => createReadStream(b) as Readable), () => streamOf(app)];
const runs = Number(process.argv[3] ?? 5);
// alternate which tree runs first in a pair. Beware: the tree imported from argv ran the 100 MB
// layer about 1.5× slower even when both sides were the same tree (equal at 400 MB): run it swapped too
const order = (i: number) => (i % 2 === 0 ? (["before", "after"] as const) : (["after", "before"] as const));
for (const mb of [100, 400]) {
  const file = await syntheticLayer(mb);
  const layer = [() => createReadStream(file, { highWaterMark: 1 << 20 }) as Readable];
  const best: Record<string, number> = {};
  for (const v of ["before", "after"] as const) await cpu(versions[v].walk, layer, versions[v].all);
  for (let i = 0; i < (mb === 100 ? runs : Math.ceil(runs / 2)); i++) {
    best.gz = Math.min(best.gz ?? 1e9, gunzipCpuSeconds(file));
    for (const v of order(i))
      best[v] = Math.min(best[v] ?? 1e9, await cpu(versions[v].walk, layer, versions[v].all));
  }
  console.log(
    `${mb} MB layer: gzip -dc ${best.gz!.toFixed(2)} s CPU; before ${best.before!.toFixed(2)} s (ratio ${(best.gz! / best.before!).toFixed(2)}), after ${best.after!.toFixed(2)} s (ratio ${(best.gz! / best.after!).toFixed(2)})`,
  );
}
const best: Record<string, number> = {};
for (const v of ["before", "after"] as const) await cpu(versions[v].walk, image, versions[v].all);
for (let i = 0; i < runs; i++)
  for (const v of order(i))
    for (const k of ["none", "all"] as const)
      best[`${v}-${k}`] = Math.min(
        best[`${v}-${k}`] ?? 1e9,
        await cpu(versions[v].walk, image, versions[v][k]),
      );
for (const v of ["before", "after"] as const) {
  const none = best[`${v}-none`]!,
    all = best[`${v}-all`]!;
  console.log(
    `debian image + app layer, ${v}: without content ${none.toFixed(3)} s, with ${all.toFixed(3)} s: +${(((all - none) / none) * 100).toFixed(0)} % (content ${(all - none).toFixed(3)} s)`,
  );
}
