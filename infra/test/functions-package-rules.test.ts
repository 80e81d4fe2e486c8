// The Functions zip ships the policy's YARA rule directories where the shipped portcullis.yaml
// resolves them (relative to the app root), and refuses rule sets it could not deliver or compile.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readUserYaraRules } from "../../shared/analysis/content/yara-rule-dirs.js";
import { yaraRuleEntries } from "../functions-package.js";

const RULE =
  'rule team_marker { meta: title = "team marker" strings: $a = "team-marker-7f3a" condition: $a }';

describe("the Functions package and the user's YARA rules", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function policyWith(rules: string[], files: Record<string, string>): string {
    dir = mkdtempSync(join(tmpdir(), "portcullis-pkg-rules-"));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const policy = join(dir, "portcullis.yaml");
    const list = rules.length === 0 ? " []" : `\n${rules.map((r) => `    - ${r}`).join("\n")}`;
    writeFileSync(policy, `content:\n  yaraRules:${list}\n`);
    return policy;
  }

  it("ships each rule file at its path relative to the policy, which the shipped policy resolves again", () => {
    const policy = policyWith(["rules/team", "./more"], {
      "rules/team/marker.yar": RULE,
      "rules/team/README.md": "not a rule",
      "more/other.yara": RULE.replace("team_marker", "other_marker"),
    });
    const entries = yaraRuleEntries(policy);
    expect(entries.map((e) => e.path).sort()).toEqual(["more/other.yara", "rules/team/marker.yar"]);
    // unpacked at the app root beside portcullis.yaml, the same directories read the same rules
    const app = mkdtempSync(join(tmpdir(), "portcullis-app-"));
    try {
      for (const e of entries) {
        mkdirSync(join(app, e.path, ".."), { recursive: true });
        writeFileSync(join(app, e.path), readFileSync(e.source));
      }
      expect(readUserYaraRules(["rules/team", "./more"], app).files.map((f) => f.source)).toEqual(
        readUserYaraRules(["rules/team", "./more"], dir).files.map((f) => f.source),
      );
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it("refuses a rule directory outside the policy's folder, a missing one and a rule that does not compile", () => {
    expect(() => yaraRuleEntries(policyWith(["../elsewhere"], {}))).toThrow(
      /YARA rule directory \.\.\/elsewhere lies outside .*: keep it beside the policy file/,
    );
    rmSync(dir, { recursive: true, force: true });
    expect(() => yaraRuleEntries(policyWith(["rules"], {}))).toThrow(
      /YARA rule directory .*rules cannot be read/,
    );
    rmSync(dir, { recursive: true, force: true });
    expect(() =>
      yaraRuleEntries(policyWith(["rules"], { "rules/bad.yar": "rule broken { condition: }" })),
    ).toThrow(/YARA rule file .*bad\.yar does not compile/);
  });

  it("ships nothing extra for a policy without rule directories", () => {
    expect(yaraRuleEntries(policyWith([], {}))).toEqual([]);
  });
});
