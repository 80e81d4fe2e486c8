/**
 * The shipped YARA rules split by file kind, each kind's set in passes. Why passes: YARA-X finds
 * patterns with one Aho-Corasick automaton, whose memchr prefilter works only while every atom of the
 * set shares at most three "rare" bytes. The whole set has far more, so YARA-X steps its automaton over
 * every byte (≈ 1.7–3.8 ns/byte); a pass of a few rules whose atoms share their rare bytes costs
 * 0.04–0.3 ns/byte (measured per pass with `bench/yara-rules.ts`). ELF files (most of an image's
 * bytes) and text get passes; the other kinds are small or rare and get one set each.
 */
import { createHash } from "node:crypto";
import { ChunkedBytes } from "../chunked-bytes.js";
import { elfStringRanges } from "./elf-analysis.js";
import { SHIPPED_YARA_RULES } from "./yara-rules.js";

export type YaraFileKind = "tiny" | "pe" | "elf" | "text" | "binary";

/** Files this size or smaller may be the EICAR file (its own definition): every rule reads them. */
export const EICAR_MAX_BYTES = 128;

/** A file's kind by size and magic; text is a file without one NUL byte (so no UTF-16 either). */
export function yaraFileKind(content: Buffer): YaraFileKind {
  if (content.length <= EICAR_MAX_BYTES) return "tiny";
  if (content[0] === 0x4d && content[1] === 0x5a) return "pe";
  if (content[0] === 0x7f && content[1] === 0x45 && content[2] === 0x4c && content[3] === 0x46) return "elf";
  return content.includes(0) ? "binary" : "text";
}

const EVERY_KIND: readonly YaraFileKind[] = ["tiny", "pe", "elf", "text", "binary"];

/**
 * The kinds each shipped rule can match; a rule missing here is scanned on every kind (slower, never
 * a missed hit). tiny and pe always get every rule (a tiny file costs one call, PE files are rare).
 */
const RULE_KINDS: Record<string, readonly YaraFileKind[]> = {
  // `$eicar at 0 and filesize <= 128`: only a tiny file can be the EICAR file
  eicar_test_file: ["tiny"],
  // `uint16(0) == 0x5A4D and …`: only a file starting with MZ (PE, or a tiny file that does)
  windows_process_injection_tool: ["tiny", "pe"],
  windows_lsass_dump_tool: ["tiny", "pe"],
  // Mimikatz commands: in PowerShell or batch scripts (Invoke-Mimikatz), PE tools, and any binary,
  // ELF included (a C2 server holding the commands it sends)
  windows_credential_dumping_commands: EVERY_KIND,
  // miner pool URLs and XMRig configs: config files, scripts, and miner binaries (XMRig embeds its config)
  coin_miner_stratum_url: EVERY_KIND,
  coin_miner_xmrig_config: EVERY_KIND,
  // a web shell is a page the web server interprets (text, or a binary-looking file in a web root); an ELF is none
  webshell_php: ["tiny", "pe", "text", "binary"],
  webshell_aspx: ["tiny", "pe", "text", "binary"],
  webshell_jsp: ["tiny", "pe", "text", "binary"],
  // reverse-shell commands: in scripts, and in binaries that hand them to system() (ELF backdoors)
  reverse_shell_dev_tcp: EVERY_KIND,
  reverse_shell_netcat: EVERY_KIND,
  reverse_shell_socat: EVERY_KIND,
  reverse_shell_python_perl: EVERY_KIND,
  reverse_shell_powershell: EVERY_KIND,
};

/**
 * Passes for the kinds that hold most bytes: ELF (most of an image) and text (scripts, configs,
 * node_modules). Rules share a pass only where their atoms share few rare bytes (each pass
 * 0.04–0.3 ns/byte on ELF, 0.2–0.6 on source code; the pairs not merged here fall back to ≈ 1.7
 * together). A rule no pass names gets a pass of its own at the end; other kinds get one set.
 */
const PASSES: Partial<Record<YaraFileKind, readonly (readonly string[])[]>> = {
  elf: [
    ["coin_miner_stratum_url", "reverse_shell_dev_tcp"],
    ["reverse_shell_netcat", "reverse_shell_python_perl"],
    ["coin_miner_xmrig_config"],
    ["reverse_shell_socat"],
    ["reverse_shell_powershell"],
    ["windows_credential_dumping_commands"],
  ],
  text: [
    ["coin_miner_stratum_url", "reverse_shell_dev_tcp"],
    ["reverse_shell_netcat", "reverse_shell_python_perl"],
    ["webshell_php"],
    ["reverse_shell_socat"],
    ["reverse_shell_powershell"],
    ["windows_credential_dumping_commands"],
    ["coin_miner_xmrig_config"],
    ["webshell_aspx"],
    ["webshell_jsp"],
  ],
};

/**
 * A rule alone in a text pass is skipped when the file holds none of its gate's strings, each a string
 * its condition cannot hold without (one `Buffer.indexOf`, 0.1–0.3 ns/byte, against 0.7–1.8 for the
 * rule: nocase letters and common punctuation make poor atoms). Pinned to the rule's exact text
 * (`ruleDigest`): after a rule edit the gate is off — slower, never a missed hit — until checked again.
 */
const GATES: Record<string, { digest: string; anyOf: readonly string[] }> = {
  // `3 of ($xmrig*)` needs two of the three quoted keys, and any two hold "pools" or "randomx"
  coin_miner_xmrig_config: { digest: "726478013218fa53", anyOf: ['"pools"', '"randomx"'] },
  // `$page and …`: $page starts with the literal `<%@`
  webshell_aspx: { digest: "3efa278834eea18f", anyOf: ["<%@"] },
  // both patterns end in the literal `request\.getParameter\(` (no nocase)
  webshell_jsp: { digest: "8df6754dc5afd09e", anyOf: ["getParameter("] },
};

export const ruleDigest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** One YARA-X scan of a file: its rules' source, and the strings one of which the file must hold to need it. */
export interface RulePass {
  source: string;
  gate?: readonly string[];
}

/** The rules, one block each: from `rule <name> {` at a line start to the `}` that closes it. */
export function ruleBlocks(source: string): { name: string; text: string }[] {
  return [...source.matchAll(/^rule (\w+) \{\n[\s\S]*?^\}/gm)].map((m) => ({ name: m[1]!, text: m[0] }));
}

/**
 * Without `wide`: for text (no NUL byte, and every UTF-16 form of an ASCII string holds one) and ELF
 * (Linux's wchar_t is 4 bytes: UTF-16 strings are Windows data; and a wide atom's 0x00, rare in text,
 * is everywhere in a binary, so a prefilter on it is useless).
 */
const asciiOnly = (text: string) => text.replace(/ ascii wide/g, " ascii");

/** Each kind's passes, from the shipped source. */
export function ruleSetPasses(source: string = SHIPPED_YARA_RULES): Record<YaraFileKind, RulePass[]> {
  const blocks = ruleBlocks(source);
  const passesOf = (kind: YaraFileKind): RulePass[] => {
    const edit = kind === "text" || kind === "elf" ? asciiOnly : (t: string) => t;
    const scanned = blocks.filter((b) => (RULE_KINDS[b.name] ?? EVERY_KIND).includes(kind));
    const groups = PASSES[kind] ?? [];
    const placed = new Set(groups.flat());
    const passes = [...groups, scanned.filter((b) => !placed.has(b.name)).map((b) => b.name)].map((names) =>
      scanned.filter((b) => names.includes(b.name)),
    );
    return passes
      .filter((rules) => rules.length > 0)
      .map((rules) => {
        // text only: in an ELF the gate's indexOf costs more than the rule's pass (0.39 against 0.26 ns/byte)
        const gate = kind === "text" && rules.length === 1 ? GATES[rules[0]!.name] : undefined;
        const pinned = gate !== undefined && gate.digest === ruleDigest(rules[0]!.text);
        return {
          source: rules.map((b) => edit(b.text)).join("\n\n"),
          ...(pinned ? { gate: gate.anyOf } : {}),
        };
      });
  };
  return {
    tiny: passesOf("tiny"),
    pe: passesOf("pe"),
    elf: passesOf("elf"),
    text: passesOf("text"),
    binary: passesOf("binary"),
  };
}

/**
 * Text files up to this size get their kind's rules in one set: a call costs ≈ 0.5 µs, so on a
 * short file the passes' calls cost more than the one set's slower bytes (over the bench's 1,589
 * scripts and configuration files, half of them under 1 KiB: 24.6 ms by passes, 18.1 with this bound).
 */
export const SHORT_TEXT_BYTES = 2048;

/** The text passes as one set (the same rules, ungated: a gate only ever skips a pass that finds nothing). */
export const oneSet = (passes: readonly RulePass[]): RulePass => ({
  source: passes.map((p) => p.source).join("\n\n"),
});

/** Whether the file needs the pass: no gate, or it holds one of the gate's strings. */
export const passNeeded = (pass: RulePass, content: Buffer) =>
  pass.gate === undefined || pass.gate.some((s) => content.includes(s, 0, "latin1"));

/** The bytes a kind's passes read, and where each of their offsets lies in the file. */
export interface ScannedBytes {
  bytes: Buffer;
  fileOffset: (offset: number) => number;
}

/** Joined ranges of an ELF file are copied here (grown as needed, kept up to this size). */
const KEPT_SCRATCH_BYTES = 8 * 1024 * 1024;
let scratch = Buffer.alloc(0);
// between two joined ranges: `\s` and every character class of the rules stop at NUL, `[^\n]` at LF
const SEPARATOR = Buffer.from("\n\0\n", "latin1");

/**
 * What the shipped rules read of a file: all of it, but of an ELF file only where a string can sit
 * (`elfStringRanges`: not its code, nor its toolchain tables, ≈ 60 % of an image's ELF bytes), joined
 * in one buffer so a rule's condition sees all its strings at once. An ELF file still in the walk's
 * chunks is copied from them range by range (never joined whole first); other kinds come as one
 * buffer; `elfRanges`, when the caller has them (`readElf`), spare reading the headers again. The
 * buffer is reused: read it before the next call.
 */
export function scannedBytes(
  kind: YaraFileKind,
  content: Buffer | ChunkedBytes,
  elfRanges?: [number, number][],
): ScannedBytes {
  const chunked = content instanceof ChunkedBytes;
  if (kind !== "elf") {
    const bytes = chunked ? content.slice(0, content.length) : content;
    return { bytes, fileOffset: (o: number) => o };
  }
  let ranges = elfRanges ?? elfStringRanges(content);
  const kept = ranges.reduce((n, [a, b]) => n + b - a, 0);
  // a copy costs ≈ 0.05 ns/byte, a pass over the skipped bytes 0.1–0.3: worth it from an eighth on
  if (content.length - kept < content.length / 8) {
    if (!chunked) return { bytes: content, fileOffset: (o: number) => o };
    ranges = [[0, content.length]];
  }
  const need = ranges.reduce((n, [a, b]) => n + b - a, 0) + SEPARATOR.length * (ranges.length - 1);
  if (scratch.length < need && need <= KEPT_SCRATCH_BYTES)
    scratch = Buffer.allocUnsafeSlow(Math.max(need, 2 * scratch.length));
  const into = scratch.length >= need ? scratch : Buffer.allocUnsafe(need);
  const starts: number[] = [];
  let at = 0;
  for (const [i, [a, b]] of ranges.entries()) {
    if (i > 0) at += SEPARATOR.copy(into, at);
    starts.push(at);
    at += content.copy(into, at, a, b);
  }
  return {
    bytes: into.subarray(0, at),
    fileOffset: (o) => {
      let i = starts.length - 1;
      while (i > 0 && starts[i]! > o) i--;
      return ranges[i]![0] + (o - starts[i]!);
    },
  };
}
