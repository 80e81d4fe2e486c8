/**
 * The shipped YARA rules split by file kind, each kind's set in passes. Why passes: YARA-X finds
 * patterns with one Aho-Corasick automaton, whose memchr prefilter works only while every atom of the
 * set shares at most three "rare" bytes. The whole set has far more, so YARA-X steps its automaton over
 * every byte (≈ 1.7–3.8 ns/byte); a pass of a few rules whose atoms share their rare bytes costs
 * 0.04–0.3 ns/byte (measured per pass with `bench/yara-rules.ts`). ELF files are most of an image's
 * bytes, so ELF gets passes; the other kinds are small or rare and get one set each.
 */
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
 * ELF's passes: rules compiled together only where their atoms share few rare bytes (each pass
 * 0.04–0.3 ns/byte on ELF; any two of them together fall back to ≈ 1.7 ns/byte). A rule the table
 * does not place joins the last pass.
 */
const ELF_PASSES: readonly (readonly string[])[] = [
  ["coin_miner_stratum_url", "reverse_shell_dev_tcp"],
  ["reverse_shell_netcat", "reverse_shell_python_perl"],
  ["coin_miner_xmrig_config"],
  ["reverse_shell_socat"],
  ["reverse_shell_powershell"],
  ["windows_credential_dumping_commands"],
];

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

/** Each kind's passes, as YARA source texts (one or more rules each), from the shipped source. */
export function ruleSetPasses(source: string = SHIPPED_YARA_RULES): Record<YaraFileKind, string[]> {
  const blocks = ruleBlocks(source);
  const scanned = (kind: YaraFileKind) =>
    blocks.filter((b) => (RULE_KINDS[b.name] ?? EVERY_KIND).includes(kind));
  const one = (kind: YaraFileKind, edit = (t: string) => t) => [
    scanned(kind)
      .map((b) => edit(b.text))
      .join("\n\n"),
  ];
  const elf = scanned("elf");
  const placed = new Set(ELF_PASSES.flat());
  const passes = ELF_PASSES.map((names) => elf.filter((b) => names.includes(b.name)));
  passes[passes.length - 1]!.push(...elf.filter((b) => !placed.has(b.name)));
  return {
    tiny: one("tiny"),
    pe: one("pe"),
    text: one("text", asciiOnly),
    binary: one("binary"),
    elf: passes.filter((p) => p.length > 0).map((p) => p.map((b) => asciiOnly(b.text)).join("\n\n")),
  };
}
