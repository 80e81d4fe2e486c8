// A rule-set update or turning clamd on must make cached layer reports miss, so layers re-scan lazily.
import { describe, expect, it } from "vitest";
import { createContentAnalyzer } from "../../../shared/analysis/content/content-analyzer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { ANALYZERS, analyzerSetVersion } from "../../../shared/analysis/registry.js";

const others = ANALYZERS.filter((a) => a.name !== "content" && a.name !== "clamav");

describe("the content engine in the layer-cache key", () => {
  it("is part of the default analyzer set", () => {
    expect(ANALYZERS.map((a) => a.name)).toContain("content");
  });

  it("changes the key when the rules version changes", () => {
    const current = createContentAnalyzer();
    const updated = { ...current, version: current.version + 1 };
    expect(analyzerSetVersion([...others, current])).not.toBe(analyzerSetVersion([...others, updated]));
  });

  it("changes the key when clamd is turned on, and is off when PORTCULLIS_CLAMD is unset or empty", () => {
    const off = analyzerSetVersion([...others, ...contentAnalyzers(undefined)]);
    expect(analyzerSetVersion([...others, ...contentAnalyzers("")])).toBe(off);
    expect(analyzerSetVersion([...others, ...contentAnalyzers("127.0.0.1:3310")])).not.toBe(off);
  });

  it("refuses a PORTCULLIS_CLAMD that names no address, instead of silently running without it", () => {
    expect(() => contentAnalyzers("clamd-please")).toThrow(/PORTCULLIS_CLAMD/);
  });
});
