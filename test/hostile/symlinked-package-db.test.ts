import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { squashLayers } from "../../shared/analysis/squash.js";
import { DEFAULT_LIMITS } from "../../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../analysis/layers.js";

const STATUS =
  "Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\n";

async function squashed(layers: Entry[][]) {
  const reports = [];
  for (const entries of layers) {
    const blob = await layerBlob(entries);
    reports.push(
      await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers: ANALYZERS, limits: DEFAULT_LIMITS }),
    );
  }
  return squashLayers(reports, { analyzers: ANALYZERS });
}

describe("a package database that is a symlink", () => {
  it.each([
    ["var/lib/dpkg/status", "status.real", "var/lib/dpkg/status.real", STATUS],
    ["lib/apk/db/installed", "/etc/apk-installed", "etc/apk-installed", "P:musl\nV:1.2.4-r2\no:musl\n\n"],
  ])("%s → %s never gives an empty inventory without a word", async (db, target, real, content) => {
    const result = await squashed([
      [
        { name: "etc/os-release", content: 'ID=debian\nVERSION_ID="12"\n' },
        { name: real, content },
      ],
      [{ name: db, symlink: target }],
    ]);
    const warned = result.warnings.filter((w) => w.code === "package-db-symlink");
    if (result.packages.length === 0) {
      expect(warned).toHaveLength(1);
      expect(warned[0]?.message).toContain(db);
      expect(warned[0]?.message).toContain(target);
    }
    expect(result.packages.length > 0 || warned.length > 0).toBe(true);
  });

  it("a symlink that replaces a real database in a lower layer says so too", async () => {
    const result = await squashed([
      [
        { name: "etc/os-release", content: 'ID=debian\nVERSION_ID="12"\n' },
        { name: "var/lib/dpkg/status", content: STATUS },
      ],
      [{ name: "var/lib/dpkg/status", symlink: "/nonexistent" }],
    ]);
    expect(result.packages).toEqual([]);
    expect(result.warnings.map((w) => w.code)).toContain("package-db-symlink");
  });

  it("a symlink onto a file the analyzers read is resolved inside the image root, without a warning", async () => {
    const result = await squashed([
      [{ name: "usr/lib/os-release", content: 'ID=debian\nVERSION_ID="12"\n' }],
      [{ name: "etc/os-release", symlink: "../usr/lib/os-release" }],
    ]);
    expect(result.os?.family).toBe("debian");
    expect(result.warnings.map((w) => w.code)).not.toContain("package-db-symlink");
  });
});
