import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, "../../node_modules/.bin/tsx");

interface BombOutcome {
  code?: string;
  message: string;
  compressedBytes: number;
  peakRssKiB: number;
}

/** Scans one bomb in a fresh process, so its peak RSS is this scan's alone. */
function scanBomb(kind: string, gib: number, maxLayerMiB: number): BombOutcome {
  const out = execFileSync(
    tsx,
    [path.join(here, "support/scan-bomb.ts"), kind, String(gib), String(maxLayerMiB)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as BombOutcome;
}

const MAX_LAYER_MIB = 64;
// the interpreter, tsx and the analyzers take ~150 MiB; a bounded scan adds a few buffers to that
const RSS_BOUND_KIB = (200 + 2 * MAX_LAYER_MIB) * 1024;

describe("decompression bombs", () => {
  it.each([
    ["zstd", 4],
    ["gzip", 1],
  ])("a %s bomb of %i GiB stops at maxLayerBytes with bounded memory", (kind, gib) => {
    const outcome = scanBomb(kind, gib, MAX_LAYER_MIB);
    expect(outcome.code, outcome.message).toBe("layer-too-large");
    expect(outcome.message).toContain("limits.maxLayerBytes");
    expect(outcome.compressedBytes).toBeLessThan(2 * 1024 ** 2);
    expect(outcome.peakRssKiB).toBeLessThan(RSS_BOUND_KIB);
  });

  it("a zstd frame declaring a 2 GiB window is refused before anything is allocated", () => {
    const outcome = scanBomb("zstd-window", 0, MAX_LAYER_MIB);
    expect(outcome.code).toBe("layer-corrupt");
    expect(outcome.message).toMatch(/window/);
    expect(outcome.peakRssKiB).toBeLessThan(RSS_BOUND_KIB);
  });
});
