import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isWarningCode, WARNING_CODES } from "../../shared/model/warning-codes.js";
import { REPO_ROOT } from "../support/corpus.js";

/** The `| \`code\` | meaning |` rows of a markdown table, padded or not. */
function tableRows(markdown: string): [string, string][] {
  return [...markdown.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [m[1]!, m[2]!]);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

// warnings are built as `{ code: "…", message }` or through the layer walk's `warn("…", …)`; zod's
// own issue code and the policy's error codes are the only other `code:` literals in shared/
const NOT_WARNINGS = new Set(["custom", "policy-invalid", "vex-invalid"]);

describe("warning codes", () => {
  it("model/README.md lists every code with the meaning warning-codes.ts gives it, in the same order", () => {
    const readme = readFileSync(path.join(REPO_ROOT, "shared", "model", "README.md"), "utf8");
    const section = readme.split("## Warning codes")[1] ?? "";
    expect(tableRows(section)).toEqual(Object.entries(WARNING_CODES));
  });

  it("has a catalogue entry for every warning code the source emits, and emits every entry", () => {
    const emitted = new Set<string>();
    for (const file of sources(path.join(REPO_ROOT, "shared"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\bcode: "([a-z0-9-]+)"/g)) emitted.add(m[1]!);
      for (const m of text.matchAll(/\bwarn\(\s*"([a-z0-9-]+)"/g)) emitted.add(m[1]!);
      // the cap's summary warning names its code through a constant
      for (const m of text.matchAll(/WARNINGS_CAPPED = "([a-z0-9-]+)"/g)) emitted.add(m[1]!);
    }
    for (const code of NOT_WARNINGS) emitted.delete(code);
    expect([...emitted].filter((code) => !isWarningCode(code)).sort()).toEqual([]);
    expect(Object.keys(WARNING_CODES).filter((code) => !emitted.has(code))).toEqual([]);
  });

  it("gives every code one line of meaning", () => {
    for (const [code, meaning] of Object.entries(WARNING_CODES)) {
      expect(meaning, code).toMatch(/^\S.{9,}$/);
      expect(meaning, code).not.toContain("\n");
    }
  });
});
