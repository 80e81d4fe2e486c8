// The configuration audit's cost: layer analysis with and without the audit analyzers, same layers,
// same run (target: at most 5 % more), on the real Debian test image and on a Windows layer whose
// SYSTEM, SOFTWARE and SAM deltas come from hivex beside 50 MB of Files/.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { analyzeLayer } from "../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../shared/analysis/analyzer.js";
import { auditAnalyzers } from "../shared/analysis/audit/index.js";
import { ANALYZERS } from "../shared/analysis/registry.js";
import { DEFAULT_LIMITS } from "../shared/model/limits.js";
import { streamOf } from "../test/analysis/layers.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { buildHiveWithHivex } from "../test/windows/support/hivexregedit.js";
import { layerBlob } from "../test/windows/support/windows-image.js";

const withoutAudit = ANALYZERS.filter((a) => !auditAnalyzers.includes(a));

async function timeLayers(open: (() => Readable)[], analyzers: readonly Analyzer[]): Promise<number> {
  // CPU time, not wall time: on a shared machine other processes stretch the wall clock of both sides
  const start = process.cpuUsage();
  for (const o of open) {
    const stream = o();
    await analyzeLayer(
      stream,
      { digest: `sha256:${"0".repeat(64)}`, mediaType: "x", size: 0 },
      { analyzers, limits: DEFAULT_LIMITS },
    );
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Alternating runs, the fastest of each: interference only ever adds time. */
async function compare(name: string, open: (() => Readable)[], runs = 9): Promise<string> {
  await timeLayers(open, ANALYZERS); // warm-up
  const base: number[] = [];
  const audited: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(await timeLayers(open, withoutAudit));
    audited.push(await timeLayers(open, ANALYZERS));
  }
  const [b, a] = [Math.min(...base), Math.min(...audited)];
  const pct = ((a - b) / b) * 100;
  return `${name}: ${b.toFixed(3)} s CPU without the audit, ${a.toFixed(3)} s with it: ${pct >= 0 ? "+" : ""}${pct.toFixed(1)} % (target ≤ 5 %)`;
}

async function main() {
  const debian = await buildDebianTestImage();
  const blobs = debian.layers.map((l) =>
    path.join(debian.layoutDir, "blobs", "sha256", l.digest.replace(/^sha256:/, "")),
  );
  console.log(
    await compare(
      "debian image, 3 layers",
      blobs.map((b) => () => createReadStream(b)),
    ),
  );

  const files: [string, Buffer][] = [];
  for (let i = 0; i < 50; i++)
    files.push([
      `Files/Program Files/Contoso/module${i}.dll`,
      i % 2 === 0 ? randomBytes(1 << 20) : Buffer.alloc(1 << 20, `line ${i}\r\n`),
    ]);
  const lsa = ["ControlSet001", "Control", "Lsa"];
  files.push([
    "Hives/System_Delta",
    buildHiveWithHivex("ROOT", [{ path: lsa, values: [{ name: "NoLMHash", dword: 1 }] }]).hive,
  ]);
  files.push([
    "Hives/Software_Delta",
    buildHiveWithHivex("ROOT", [
      {
        path: ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"],
        values: [{ name: "AutoAdminLogon", string: "0" }],
      },
    ]).hive,
  ]);
  const { gz } = await layerBlob(files);
  console.log(await compare("windows layer, 50 MB Files/ + hive deltas", [() => streamOf(gz)]));
}

await main();
