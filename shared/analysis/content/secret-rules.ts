import { compile, type YaraX } from "@litko/yara-x";
import { WEB_ROOT } from "./yara-engine.js";

/**
 * High-precision secret rules: each has keywords that must appear before its regex runs (cheap on
 * the many files that hold none), and a pattern anchored on a provider's fixed token prefix or a PEM
 * block with a body — the shapes Trivy's built-in rules also require. The matched text never leaves
 * this module: a hit is a rule and a line number.
 */
export interface SecretRule {
  id: string;
  title: string;
  keywords: readonly string[];
  pattern: RegExp;
  /** a hit whose text contains one of these is documentation, not a secret (AKIAIOSFODNN7EXAMPLE) */
  allow?: RegExp;
  /** how far past its keyword a match can end (REACH unless longer): the regex reads only that far */
  reach?: number;
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: "secret/private-key",
    title: "private key block",
    keywords: ["PRIVATE KEY"],
    // a PEM block longer than this is no key (RSA-16384 in PKCS#8 PEM is ≈ 12.6 KB)
    reach: 64 * 1024,
    // a header, a base64 body of at least 64 characters, and the footer: a bare header string is not a key
    pattern:
      /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\r\n]+(?:[A-Za-z0-9-]+: [^\r\n]*[\r\n]+)*[\r\n]*[A-Za-z0-9+/=\r\n]{64,}-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/g,
  },
  {
    id: "secret/aws-access-key-id",
    title: "AWS access key id",
    keywords: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
    pattern: /(?<![A-Za-z0-9/+])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9/+=])/g,
    allow: /EXAMPLE/,
  },
  {
    id: "secret/github-token",
    title: "GitHub token",
    keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{82})(?![A-Za-z0-9_])/g,
  },
  {
    id: "secret/gitlab-token",
    title: "GitLab personal access token",
    keywords: ["glpat-"],
    pattern: /(?<![A-Za-z0-9_-])glpat-[0-9A-Za-z_-]{20}(?![A-Za-z0-9_-])/g,
  },
  {
    id: "secret/slack-token",
    title: "Slack token",
    keywords: ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
    pattern: /(?<![A-Za-z0-9])xox[baprs]-[0-9]{10,13}-[0-9]{10,13}(?:-[0-9A-Za-z]{10,48})+/g,
  },
  {
    id: "secret/stripe-secret-key",
    title: "Stripe live secret key",
    // the part both prefixes share: one rare atom, a keyword pass of its own (secret/stripe-secret-key
    // matches start one byte before it)
    keywords: ["_live_"],
    pattern: /(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{24,99}(?![A-Za-z0-9_])/g,
  },
  {
    id: "secret/google-api-key",
    title: "Google API key",
    keywords: ["AIza"],
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
  },
  {
    id: "secret/azure-storage-key",
    title: "Azure storage account key in a connection string",
    keywords: ["AccountKey="],
    pattern: /AccountKey=[A-Za-z0-9+/]{86}==/g,
  },
];

/**
 * The keyword pass, in the file's bytes (no string copy of the many files that hold none): YARA-X's
 * Aho-Corasick over the keywords, in sets whose atoms share few rare bytes so its memchr prefilter
 * works — GitHub's (`gh?_`), Stripe's `_live_`, those with `-`, the rest: 51 ms over an image's 36 MB
 * of text (the Debian test image's and an npm tree's), against 61 with `_live_` among GitHub's and
 * 86 in two sets (`bench/yara-rules.ts` corpus). A set's split only moves cost, never a hit.
 * Its matches say where each keyword is, so a rule's regex reads only the text around them.
 */
/** Keyword offsets reported per keyword: past this many, the rule reads the whole file (as it once did). */
const MAX_KEYWORD_OFFSETS = 64;

const KEYWORD_PASSES: readonly KeywordPass[] = keywordPasses(SECRET_RULES.flatMap((r) => r.keywords));

interface KeywordPass {
  rules: YaraX;
  /** the keyword of each pattern, by its identifier (`$k0` …) */
  keywords: ReadonlyMap<string, string>;
}

function keywordPasses(keywords: readonly string[]): KeywordPass[] {
  const underscore = keywords.filter((k) => k.includes("_") && !k.startsWith("_"));
  const leading = keywords.filter((k) => k.startsWith("_"));
  const dash = keywords.filter((k) => !k.includes("_") && k.includes("-"));
  const rest = keywords.filter((k) => !k.includes("_") && !k.includes("-"));
  return [underscore, leading, dash, rest]
    .filter((set) => set.length > 0)
    .map((set) => {
      const strings = set.map((k, i) => `$k${i} = "${k.replace(/[\\"]/g, "\\$&")}"`).join("\n    ");
      const rules: YaraX = compile(
        `rule keywords {\n  strings:\n    ${strings}\n  condition:\n    any of them\n}`,
      );
      rules.setMaxMatchesPerPattern(MAX_KEYWORD_OFFSETS);
      return { rules, keywords: new Map(set.map((k, i) => [`$k${i}`, k])) };
    });
}

/** Each keyword found and its offsets (in file order; capped at MAX_KEYWORD_OFFSETS). */
function keywordOffsets(content: Buffer): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const pass of KEYWORD_PASSES)
    for (const rule of pass.rules.scan(content))
      for (const m of rule.matches) {
        const keyword = pass.keywords.get(m.identifier);
        if (keyword === undefined) continue;
        const offsets = found.get(keyword) ?? [];
        offsets.push(m.offset);
        found.set(keyword, offsets);
      }
  return found;
}

/** One rule's hit in a file: where, never what. */
export interface SecretHit {
  rule: string;
  title: string;
  line: number;
}

/** Largest text file searched for secrets; bigger text files are hashed but not searched. */
export const MAX_SECRET_SCAN_BYTES = 4 * 1024 * 1024;

/**
 * How far around a keyword a rule's match can lie: it starts at most BEFORE bytes before it (a PEM
 * header's `-----BEGIN` and label, ≤ 110; a token at its keyword or just before) and ends within the
 * rule's `reach` after it (every token is under 120 bytes), one byte more for a closing look-ahead.
 */
const BEFORE = 256;
const REACH = 1024;

// the system directories packages install into: Trivy's built-in allow rule `usr-dirs` leaves them
// out of its secret scan too (perl's library, headers, docs and Unicode tables: 80 % of the Debian
// test image's text, where the keyword pass found only prose); web roots and key files stay in
const SYSTEM_DIRS = /^usr\/(?:share|include|lib)\//;
const KEY_FILE = /\.(?:pem|key|p8|env)$|(?:^|\/)(?:id_(?:rsa|dsa|ecdsa|ed25519)|\.env\.[^/]+|credentials)$/;

/** Whether a file at `path` (no leading slash) is searched for secrets. */
export const secretsSearched = (path: string): boolean =>
  !SYSTEM_DIRS.test(path) || WEB_ROOT.test(path) || KEY_FILE.test(path);

/** Bytes at a file's start that tell text from binary: a NUL among them makes it binary. */
export const TEXT_SNIFF_BYTES = 8192;

/**
 * Whether `findSecrets` reads a file at all: text (no NUL in its first 8 KiB) up to the size bound.
 * `content` may be the file's first bytes alone (at least TEXT_SNIFF_BYTES of them), with `length` its size.
 */
export const secretsMayHold = (content: Buffer, length = content.length): boolean =>
  length <= MAX_SECRET_SCAN_BYTES && !content.subarray(0, TEXT_SNIFF_BYTES).includes(0);

/** Secrets in a text file (a file with a NUL in its first 8 KiB counts as binary and is not searched). */
export function findSecrets(content: Buffer): SecretHit[] {
  // binaries (most of an image's bytes) are ruled out before any keyword pass over the content
  if (!secretsMayHold(content)) return [];
  // most files stop here, before any copy of their bytes into a string
  const offsets = keywordOffsets(content);
  if (offsets.size === 0) return [];
  const hits: { rule: SecretRule; at: number }[] = [];
  for (const rule of SECRET_RULES) {
    const at = rule.keywords.flatMap((k) => offsets.get(k) ?? []);
    if (at.length === 0) continue;
    const capped = rule.keywords.some((k) => (offsets.get(k)?.length ?? 0) >= MAX_KEYWORD_OFFSETS);
    // only the text around the keywords becomes a string, each byte at most once per rule
    const reach = rule.reach ?? REACH;
    const ranges: [number, number][] = capped ? [[0, content.length]] : windows(at, reach, content.length);
    for (const [from, to] of ranges) {
      const text = content.toString("latin1", from, to);
      for (const match of text.matchAll(rule.pattern)) {
        if (rule.allow?.test(match[0])) continue;
        hits.push({ rule, at: from + match.index });
      }
    }
  }
  const lines = lineNumbers(
    content,
    hits.map((h) => h.at),
  );
  return hits.map((h, i) => ({ rule: h.rule.id, title: h.rule.title, line: lines[i]! }));
}

/** The byte ranges around the keyword offsets, merged where they touch. */
function windows(offsets: number[], reach: number, length: number): [number, number][] {
  const out: [number, number][] = [];
  for (const at of [...offsets].sort((a, b) => a - b)) {
    const from = Math.max(0, at - BEFORE);
    const to = Math.min(length, at + reach + 1);
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** The 1-based line of each offset, counting newlines once through the file. */
function lineNumbers(content: Buffer, offsets: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let nl = content.indexOf(0x0a);
  for (const i of offsets.map((_, i) => i).sort((a, b) => offsets[a]! - offsets[b]!)) {
    for (; nl !== -1 && nl < offsets[i]!; nl = content.indexOf(0x0a, nl + 1)) line++;
    lines[i] = line;
  }
  return lines;
}
