// A YARA rule that takes seconds per file (a regex with a 1000-byte gap over a run of 'A's):
// @litko/yara-x has no scan timeout, so each file's scan is bounded by the engine's own timer. The
// file is named in a yara-timeout warning, its other checks still run, the pathological scan holds
// at most one thread, and scanning resumes once it ends.
import { describe, expect, it, vi } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { createContentAnalyzer } from "../../../shared/analysis/content/content-analyzer.js";
import { YaraEngine } from "../../../shared/analysis/content/yara-engine.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { layerBlob, streamOf } from "../layers.js";

const SLOW_RULE = {
  path: "rules/slow.yar",
  source: 'rule slow_gap { meta: title = "slow" strings: $a = /A[^B]{0,1000}B/ condition: $a }',
};
// about a second of YARA-X time on this machine: slow enough to pass 100 ms, short enough to end
const slowScript = () => Buffer.concat([Buffer.from("#!/bin/sh\n"), Buffer.alloc(8000, 0x41)]);
const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

describe("YARA scan time bound", () => {
  it("abandons a scan past its bound, skips while it runs on, and scans again once it ends", async () => {
    const engine = new YaraEngine({ files: [SLOW_RULE] }, { scanTimeoutMs: 100 });
    expect(await engine.scanWithin(slowScript())).toEqual({
      hits: [],
      error: "the user's YARA rules timed out after 100 ms (a slow rule); their verdict on it is unknown",
    });
    // the shipped rules (in this thread) still give their verdict while the user's are stuck
    const eicarHit = expect.objectContaining({ rule: "malware/eicar-test-file" });
    expect(await engine.scanWithin(Buffer.from(EICAR))).toEqual({
      hits: [eicarHit],
      error: "not scanned by the user's YARA rules: an earlier scan that timed out is still running",
    });
    await vi.waitFor(
      async () => {
        const outcome = await engine.scanWithin(Buffer.from(EICAR));
        expect(outcome).toEqual({ hits: [eicarHit] });
      },
      { timeout: 60_000, interval: 200 },
    );
  });

  it("says which files had no YARA verdict in the layer's content warnings; the engine's own rules still look", async () => {
    const yara = new YaraEngine({ files: [SLOW_RULE] }, { scanTimeoutMs: 100 });
    const analyzers = [createContentAnalyzer({ yara })];
    const blob = await layerBlob([
      { name: "opt/app/a.sh", content: slowScript() },
      { name: "opt/app/b.sh", content: slowScript() },
      { name: "opt/app/eicar.com", content: EICAR },
    ]);
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS });
    const fact = ContentFactSchema.parse(squashLayers([report], { analyzers }).facts.content);
    const warnings = (fact.warnings ?? []).filter((w) => w.code === "yara-timeout");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.layer).toBe(report.digest);
    // which of the three waited and which timed out depends on when the runaway scan ends
    expect(warnings[0]!.message).toMatch(
      /^the user's YARA rules gave no verdict on [1-3] files? of this layer \([1-3] timed out, the rest waited on a timed-out scan\), e\.g\. \/opt\/app\/a\.sh; /,
    );
    expect(fact.findings.map((f) => [f.path, f.rule])).toContainEqual([
      "/opt/app/eicar.com",
      "malware/eicar-test-file",
    ]);
  });
});
