/** A high-precision secret pattern: what it is called in a finding, and how it is recognised. */
interface SecretPattern {
  name: string;
  pattern: RegExp;
}

// Few and precise: each one has a fixed prefix or framing that ordinary text does not produce.
const PATTERNS: readonly SecretPattern[] = [
  { name: "a private key block", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { name: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "a GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b/ },
  { name: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: "an Azure storage account key", pattern: /AccountKey=[A-Za-z0-9+/]{86}==/ },
  { name: "a Slack token", pattern: /\bxox[abposr]-[0-9A-Za-z-]{10,}/ },
];

/** `DB_PASSWORD=…` with a value that is not empty and not a variable reference. */
const PASSWORD_ASSIGNMENT = /(?:^|[\s"';&|])([A-Za-z0-9_]*PASSWORD)=("[^"]+"|'[^']+'|[^\s"'$][^\s;&|]*)/i;

/** What kind of secret `text` holds, named without its value; undefined when none. */
export function findSecret(text: string): string | undefined {
  for (const { name, pattern } of PATTERNS) if (pattern.test(text)) return name;
  const assignment = PASSWORD_ASSIGNMENT.exec(text);
  if (assignment) {
    const value = assignment[2]!.replace(/^(["'])(.*)\1$/, "$2");
    if (value !== "" && !value.startsWith("$")) return `${assignment[1]} set (${value.length} characters)`;
  }
  return undefined;
}
