import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import { parseApkInstalled } from "../../shared/analysis/apk/apk-analyzer.js";
import { parseDpkgDatabase } from "../../shared/analysis/dpkg/dpkg-analyzer.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { ScanError } from "../../shared/model/errors.js";
import { DEFAULT_LIMITS } from "../../shared/model/limits.js";
import { type Compression, fixture, layerBlob, streamOf } from "./layers.js";
import { seededRandom as random } from "../support/seeded-random.js";

/** Flips, overwrites or cuts a few bytes the way a broken mirror or a malicious registry might. */
function corrupt(bytes: Buffer, next: () => number): Buffer {
  const out = Buffer.from(bytes);
  const kind = Math.floor(next() * 3);
  if (kind === 0) return out.subarray(0, Math.floor(next() * out.length));
  const edits = 1 + Math.floor(next() * 8);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * out.length);
    out[at] = kind === 1 ? out[at]! ^ (1 << Math.floor(next() * 8)) : Math.floor(next() * 256);
  }
  return out;
}

const LIMITS = { ...DEFAULT_LIMITS, maxLayerBytes: 64 * 1024 ** 2 };

describe("layer analysis on corrupted layers", () => {
  it.each<Compression>(["gzip", "zstd", "none"])(
    "answers every corrupted %s layer with a report or a ScanError, never anything else",
    async (compression) => {
      const status = (await fixture("pkgdb/dpkg/scalibr/valid")).toString();
      const blob = await layerBlob(
        [
          { name: "etc/os-release", content: 'ID=debian\nVERSION_ID="12"\n' },
          { name: "var/lib/dpkg/status", content: status },
          { name: "lib/apk/db/installed", content: "P:musl\nV:1.2.4-r2\no:musl\n\n" },
          { name: "usr/share/doc/readme", content: "x".repeat(20_000) },
        ],
        compression,
      );
      const next = random(compression.length * 7919);
      let reports = 0;
      let errors = 0;
      for (let i = 0; i < 150; i++) {
        const bytes = corrupt(blob.bytes, next);
        try {
          await analyzeLayer(streamOf(bytes, 997), blob.ref, { analyzers: ANALYZERS, limits: LIMITS });
          reports++;
        } catch (err) {
          // the reason a user reads must be a ScanError with a code, not a crash from deep inside
          expect(err, `case ${i}: ${String(err)}`).toBeInstanceOf(ScanError);
          errors++;
        }
      }
      expect(reports + errors).toBe(150);
      expect(errors).toBeGreaterThan(0);
    },
  );
});

describe("package database parsers on corrupted files", () => {
  it("parse every mangled dpkg status and apk database without throwing", async () => {
    const dpkg = await fixture("pkgdb/dpkg/scalibr/valid");
    const apk = await fixture("pkgdb/apk/scalibr/installed");
    const next = random(42);
    for (let i = 0; i < 300; i++) {
      const d = corrupt(dpkg, next).toString("utf8");
      const a = corrupt(apk, next).toString("utf8");
      const parsedDpkg = parseDpkgDatabase(d, { path: "var/lib/dpkg/status" });
      const parsedApk = parseApkInstalled(a, "lib/apk/db/installed");
      // whatever survives is still a well-formed record: a name and a version, never undefined
      for (const p of [...parsedDpkg.packages, ...parsedApk.packages]) {
        expect(typeof p.name).toBe("string");
        expect(typeof p.version).toBe("string");
      }
    }
  });
});
