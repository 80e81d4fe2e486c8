// Windows: regf parsing throughput on the largest corpus hive, and the cold scan time of a Windows
// image whose app layer carries 50 MB of Files/ (analysis of every layer + matching against MSRC).
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inventoryImage } from "../shared/analysis/inventory-image.js";
import { openHive } from "../shared/analysis/windows/regf/index.js";
import { matchInventory } from "../shared/matching/match.js";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import { openImageSource } from "../shared/registry/open-image-source.js";
import { buildDbFromRecords } from "../shared/vulndb/db-build.js";
import { openDb } from "../shared/vulndb/db-read.js";
import { CvrfDocumentSchema, cvrfToOsv } from "../shared/vulndb/msrc/index.js";
import {
  currentVersionKeys,
  initLayout,
  uninstallKey,
  writeWindowsImage,
} from "../test/windows/support/windows-image.js";
import { corpusPath } from "../test/support/corpus.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The biggest regf file in the corpus's hives/ (dumps, logs and notes beside them left out). */
async function largestHive(): Promise<string> {
  const dir = corpusPath("hives");
  let best = { file: "", size: -1 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const { size } = await stat(file);
    if (size > best.size && (await isRegf(file))) best = { file, size };
  }
  return best.file;
}

async function isRegf(file: string): Promise<boolean> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.toString("latin1") === "regf";
  } finally {
    await handle.close();
  }
}

/** Opens the hive and reads every key and every value's data, as a full export would. */
function parseAll(buf: Buffer): number {
  const hive = openHive(buf);
  let values = 0;
  for (const key of hive.walk()) {
    for (const value of key.values()) {
      values += value.data.length > 0 ? 1 : 0;
    }
  }
  return values;
}

async function hiveThroughput(): Promise<string> {
  const file = await largestHive();
  const buf = await readFile(file);
  parseAll(buf); // warm-up: JIT and lazy module state
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 2 || runs < 5) {
    parseAll(buf);
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const mbPerSecond = (buf.length * runs) / (1024 * 1024) / elapsed;
  return `hive parse  ${path.relative(root, file)} (${(buf.length / 1024).toFixed(0)} KiB): ${mbPerSecond.toFixed(1)} MB/s over ${runs} full walks`;
}

async function windowsImageScan(): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-bench-win-"));
  try {
    const layout = path.join(work, "layout");
    await initLayout(layout);
    // 50 files of 1 MiB, half random (incompressible binaries) and half text-like, like Program Files
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 50; i++) {
      files[`Program Files/Contoso/bin/module${i}.dll`] =
        i % 2 === 0 ? randomBytes(1 << 20) : Buffer.alloc(1 << 20, `line ${i} of a text file\r\n`);
    }
    await writeWindowsImage(layout, "bench", {
      osVersion: "10.0.26100.3775",
      layers: [
        {
          software: currentVersionKeys({
            build: 26100,
            ubr: 3775,
            installationType: "Server Core",
            productName: "Windows Server 2025 Datacenter",
          }),
        },
        { files, software: [uninstallKey("{BENCH}", "Contoso", "1.0.0", "Contoso")] },
      ],
    });
    const dbStore = new FsBlobStore(path.join(work, "db"));
    const msrc = path.join(root, "test/fixtures/windows/msrc");
    const docs = await Promise.all(
      ["cvrf-2024-Mar.json", "cvrf-2025-Aug.json"].map(async (f) =>
        CvrfDocumentSchema.parse(JSON.parse(await readFile(path.join(msrc, f), "utf8"))),
      ),
    );
    await buildDbFromRecords(dbStore, cvrfToOsv(docs).records);
    const db = (await openDb(dbStore))!;

    let best = Number.POSITIVE_INFINITY;
    let findings = 0;
    for (let run = 0; run < 3; run++) {
      // a fresh layer cache each run: the cold scan, every layer streamed and analysed
      const store = new FsBlobStore(path.join(work, `cache-${run}`));
      const start = process.hrtime.bigint();
      const source = await openImageSource(`oci:${layout}:bench`);
      const [image] = await source.resolve(undefined);
      const inventory = await inventoryImage(source, image!, { store });
      findings = (await matchInventory(inventory.packages, db)).length;
      await source.close?.();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
    }
    return `windows image scan  50 MB Files/ layer, cold cache: ${best.toFixed(2)} s (${(50 / best).toFixed(0)} MB/s, ${findings} findings)`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

console.log(await hiveThroughput());
console.log(await windowsImageScan());
