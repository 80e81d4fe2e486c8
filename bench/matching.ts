// Matching 1,000 packages against a DB of ≥ 100,000 generated advisories: build time, size on
// disk, load time, and match time after load (target: well under a second).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { matchInventory } from "../shared/matching/match.js";
import type { Package } from "../shared/model/inventory.js";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import { openDb } from "../shared/vulndb/db-read.js";
import { buildDbFromRecords } from "../shared/vulndb/db-build.js";
import { spawnSync } from "node:child_process";
import { ADVISORIES, PACKAGES_IN_DB, syntheticDebianRecords } from "./support/synthetic-advisories.js";

const SCANNED = 1_000;

const dir = await mkdtemp(path.join(tmpdir(), "portcullis-bench-db-"));
try {
  const store = new FsBlobStore(dir);
  let t = performance.now();
  const { metadata } = await buildDbFromRecords(store, syntheticDebianRecords());
  const buildMs = performance.now() - t;
  const du = spawnSync("du", ["-sk", dir], { encoding: "utf8" }).stdout.split("\t")[0];

  t = performance.now();
  const db = await openDb(store);
  if (!db) throw new Error("no DB after build");
  const packages: Package[] = Array.from({ length: SCANNED }, (_, i) => ({
    name: `bin${i}`,
    version: `1.${i % 17}-2+b1`,
    ecosystem: "Debian:12",
    purl: `pkg:deb/debian/bin${i}@1.${i % 17}-2+b1?distro=debian-12`,
    source: { name: `srcpkg${(i * 7) % PACKAGES_IN_DB}`, version: `1.${i % 17}-2` },
    layer: "sha256:" + "0".repeat(64),
    paths: ["var/lib/dpkg/status"],
  }));
  await db.preload(packages.map((p) => ({ ecosystem: p.ecosystem, name: p.source!.name })));
  const loadMs = performance.now() - t;

  let best = Number.POSITIVE_INFINITY;
  let found = 0;
  for (let run = 0; run < 5; run++) {
    t = performance.now();
    found = (await matchInventory(packages, db)).length;
    best = Math.min(best, performance.now() - t);
  }
  console.log(
    `DB: ${ADVISORIES} advisories over ${PACKAGES_IN_DB} packages, version ${metadata.version}; build ${(buildMs / 1000).toFixed(1)} s, ${(
      Number(du) / 1024
    ).toFixed(1)} MB on disk`,
  );
  console.log(`load (shards for ${SCANNED} packages): ${loadMs.toFixed(0)} ms`);
  console.log(
    `match ${SCANNED} packages after load: ${best.toFixed(1)} ms (${found} findings; target well under 1000 ms)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
