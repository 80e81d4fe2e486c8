import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { squashLayers } from "../../shared/analysis/squash.js";
import { MAX_WARNINGS_PER_CODE, WARNINGS_CAPPED } from "../../shared/analysis/warning-cap.js";
import { DEFAULT_LIMITS } from "../../shared/model/limits.js";
import { layerBlob, streamOf } from "../analysis/layers.js";

const ESCAPES = 150_000;

describe("a layer that floods warnings", () => {
  it("keeps the first warnings per code, counts the rest, and squashes without overflowing the stack", async () => {
    const entries = Array.from({ length: ESCAPES }, (_, i) => ({ name: `../../escape-${i}`, content: "" }));
    entries.push({ name: "etc/os-release", content: 'ID=debian\nVERSION_ID="12"\n' });
    const blob = await layerBlob(entries, "gzip");
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
      analyzers: ANALYZERS,
      limits: DEFAULT_LIMITS,
    });
    expect(report.warnings.filter((w) => w.code === "path-escape")).toHaveLength(MAX_WARNINGS_PER_CODE);
    const capped = report.warnings.filter((w) => w.code === WARNINGS_CAPPED);
    expect(capped).toHaveLength(1);
    expect(capped[0]?.message).toContain(`path-escape: the first ${MAX_WARNINGS_PER_CODE}`);
    expect(capped[0]?.message).toContain(`and ${ESCAPES - MAX_WARNINGS_PER_CODE} more`);

    // reports cached before the cap existed may still carry every warning: squash caps them too
    const uncapped = {
      ...report,
      warnings: Array.from({ length: ESCAPES }, (_, i) => ({
        code: "path-escape",
        message: `escape ${i}`,
        layer: report.digest,
      })),
    };
    const squashed = squashLayers([uncapped, report], { analyzers: ANALYZERS });
    // both reports name the same layer (150,000 + 100 escapes): one list of a hundred, and the summaries
    expect(squashed.warnings.filter((w) => w.code === "path-escape")).toHaveLength(MAX_WARNINGS_PER_CODE);
    const summaries = squashed.warnings.filter((w) => w.code === WARNINGS_CAPPED);
    expect(summaries.some((w) => w.message.includes(`and ${ESCAPES} more`))).toBe(true);
    expect(squashed.os?.family).toBe("debian");
  }, 120_000);
});
