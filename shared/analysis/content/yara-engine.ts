import { createHash } from "node:crypto";
import { compile, type RuleMatch, type YaraX } from "@litko/yara-x";
import { ContentCategorySchema } from "../../model/content.js";
import { SHIPPED_YARA_RULES, YARA_RULES_VERSION } from "./yara-rules.js";
import type { UserYaraRules } from "./yara-rule-dirs.js";
import { ScanError } from "../../model/errors.js";
import { needsFullRuleSet, nonPeRules } from "./yara-non-pe-rules.js";

/** One YARA rule that matched a file: its stable id, threat kind, title and which patterns hit where. */
export interface YaraHit {
  rule: string;
  category: "malware" | "injection" | "persistence" | "secret" | "integrity";
  title: string;
  /** `$stratum at 0x1f3` — pattern names and offsets, never the matched bytes (a rule may match a secret) */
  patterns: string[];
}

/** Executables and scripts (by magic or name) are scanned up to this size … */
export const MAX_YARA_EXECUTABLE_BYTES = 32 * 1024 * 1024;
/** … web-root files and configuration files (miner pools) up to this one. */
export const MAX_YARA_TEXT_BYTES = 2 * 1024 * 1024;

const SCRIPT_OR_WEB =
  /\.(?:php\d?|phtml|inc|jsp|jspx|asp|aspx|ashx|asmx|cshtml|sh|bash|zsh|py|pl|rb|js|ps1|psm1|bat|cmd|vbs|exe|dll|sys|scr|so|elf)$/i;
const CONFIG =
  /\.(?:json|conf|cfg|ini|ya?ml|txt|service|timer|desktop)$|(?:^|\/)(?:crontab|rc\.local|cron\.[a-z]+\/[^/]+)$/i;
const WEB_ROOT =
  /^(?:var\/www|srv\/www|usr\/share\/nginx\/html|inetpub|Files\/inetpub|usr\/local\/tomcat\/webapps|opt\/[^/]+\/webapps)\//i;

/** Which files YARA reads: executables, scripts and web roots, and configuration files, each within its size limit. */
export function yaraScans(path: string, content: Buffer): boolean {
  if (content.length === 0) return false;
  const head = content.subarray(0, 4);
  const executable =
    head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || // ELF
    (head[0] === 0x4d && head[1] === 0x5a) || // MZ: PE
    (head[0] === 0x23 && head[1] === 0x21) || // #!
    content.subarray(0, 3).toString("latin1") === "X5O" || // EICAR-shaped
    SCRIPT_OR_WEB.test(path);
  if (executable) return content.length <= MAX_YARA_EXECUTABLE_BYTES;
  return (WEB_ROOT.test(path) || CONFIG.test(path)) && content.length <= MAX_YARA_TEXT_BYTES;
}

/**
 * YARA-X over the shipped rule set and the user's rules, compiled once. A user rule that fails to
 * compile, or that YARA-X judges slow, is refused here with its file and line: a scan never runs a
 * rule set other than the one configured.
 */
export class YaraEngine {
  private readonly rules: YaraX;
  /** the same hits for non-PE files over 128 bytes, with PE-only patterns left out (yara-non-pe-rules.ts) */
  private readonly nonPe: YaraX | undefined;
  /** the rule set's identity in the layer-cache key: shipped version plus a digest of the user rules */
  readonly version: string;

  constructor(user: UserYaraRules = { files: [] }) {
    this.rules = withUserRules(compile(SHIPPED_YARA_RULES), user);
    const nonPe = nonPeRules(SHIPPED_YARA_RULES);
    this.nonPe = nonPe === undefined ? undefined : nonPeEngine(nonPe, user);
    const digest = createHash("sha256");
    for (const file of user.files) digest.update(`${file.path}\0${file.source}\0`);
    this.version =
      user.files.length === 0
        ? `shipped@${YARA_RULES_VERSION}`
        : `shipped@${YARA_RULES_VERSION}+user-${digest.digest("hex").slice(0, 16)}`;
  }

  scan(content: Buffer): YaraHit[] {
    const rules = this.nonPe === undefined || needsFullRuleSet(content) ? this.rules : this.nonPe;
    return rules.scan(content).map(toHit);
  }
}

/** A user rule that names a dropped shipped rule does not compile here: the full set then scans every file. */
function nonPeEngine(source: string, user: UserYaraRules): YaraX | undefined {
  try {
    return withUserRules(compile(source), user);
  } catch {
    return undefined;
  }
}

function withUserRules(rules: YaraX, user: UserYaraRules): YaraX {
  for (const file of user.files) {
    try {
      rules.addRuleSource(file.source);
    } catch (err) {
      throw new ScanError(
        "yara-rules-invalid",
        `YARA rule file ${file.path} does not compile: ${(err as Error).message}`,
      );
    }
  }
  // at most this many matches per pattern: a file full of one string must not make a huge answer
  rules.setMaxMatchesPerPattern(16);
  return rules;
}

function toHit(match: RuleMatch): YaraHit {
  const meta = match.meta as Record<string, unknown>;
  const category = ContentCategorySchema.safeParse(meta.category);
  const id =
    typeof meta.id === "string" && /^[a-z0-9-]+\/[A-Za-z0-9_.-]+$/.test(meta.id) ? meta.id : undefined;
  const seen = new Set<string>();
  for (const m of match.matches) seen.add(`${m.identifier} at 0x${m.offset.toString(16)}`);
  return {
    // a user rule is named by its identifier, so it can never pose as a shipped rule id
    rule:
      id !== undefined && SHIPPED_RULES.has(match.ruleIdentifier) ? id : `yara-user/${match.ruleIdentifier}`,
    category: category.success ? category.data : "malware",
    title: typeof meta.title === "string" ? meta.title : `YARA rule ${match.ruleIdentifier}`,
    patterns: [...seen].slice(0, 8),
  };
}

const SHIPPED_RULES = new Set([...SHIPPED_YARA_RULES.matchAll(/^rule (\w+)/gm)].map((m) => m[1]!));
