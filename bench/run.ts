// `npm run bench`: every benchmark in one run, each reporting ratios measured side by side on this machine.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const all = [
  "layer-throughput.ts",
  "cached-rescan.ts",
  "matching.ts",
  "db-update.ts",
  "windows-hive.ts",
  "push-to-verdict.ts",
  "audit-overhead.ts",
  "tracking.ts",
  "analyzer-overhead.ts",
  "rescan-fleet.ts",
  "language-inventory.ts",
  "decompression-bombs.ts",
  "yara-rules.ts",
  "content-engine.ts",
];
const only = process.argv.slice(2);
const chosen = only.length ? all.filter((b) => only.some((o) => b.startsWith(o))) : all;

let failed = 0;
for (const bench of chosen) {
  process.stdout.write(`\n== ${bench.replace(/\.ts$/, "")}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(here, bench)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`   (${bench} exited with ${r.status})\n`);
  }
}
process.exitCode = failed ? 1 : 0;
