// Decompression bombs: peak RSS of the worst bomb per codec against maxLayerBytes, each scan in its
// own process (test/hostile/support/scan-bomb.ts), so the figure is that scan's alone. Bounded means
// the peak does not follow the bomb's size nor maxLayerBytes beyond a few buffers.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsx = path.join(root, "node_modules/.bin/tsx");
const scanBomb = path.join(root, "test/hostile/support/scan-bomb.ts");

interface Outcome {
  code?: string;
  compressedBytes: number;
  rssBeforeKiB: number;
  peakRssKiB: number;
}

/** kind, GiB it inflates to (0: the bomb decides), what it is */
const BOMBS: [string, number, string][] = [
  ["zstd", 4, "zstd RLE blocks, 4 GiB of zeros"],
  ["gzip", 1, "gzip, 1 GiB of zeros"],
  ["zstd-window", 0, "zstd frame declaring a 1.9 GiB window"],
];
const MiB = (kib: number) => `${Math.round(kib / 1024)} MiB`;

process.stdout.write(`Node ${process.versions.node}\n`);
for (const maxLayerMiB of [64, 256]) {
  for (const [kind, gib, what] of BOMBS) {
    const out = execFileSync(tsx, [scanBomb, kind, String(gib), String(maxLayerMiB)], {
      cwd: root,
      encoding: "utf8",
    });
    const o = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Outcome;
    process.stdout.write(
      `maxLayerBytes ${maxLayerMiB} MiB · ${what} in ${(o.compressedBytes / 1024).toFixed(0)} KiB: ${o.code ?? "no error"}; ` +
        `peak RSS ${MiB(o.peakRssKiB)} (${MiB(o.rssBeforeKiB)} before the scan, +${MiB(o.peakRssKiB - o.rssBeforeKiB)})\n`,
    );
  }
}
