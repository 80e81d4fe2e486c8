const MAX_RULE = 64 * 1024;

export interface SudoersGrant {
  line: number;
  /** the rule as written, up to its first 200 characters */
  text: string;
}

/**
 * Finds the rules in a sudoers(5) file that give root without a password: a user
 * specification whose commands after a `NOPASSWD:` tag include `ALL`, and `Defaults !authenticate`.
 */
export function parseSudoers(text: string): SudoersGrant[] {
  const out: SudoersGrant[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    // a trailing backslash continues the rule on the next line (bounded: a file of backslashes is not one rule)
    const parts = [lines[i]!];
    let length = parts[0]!.length;
    while (parts[parts.length - 1]!.endsWith("\\") && i + 1 < lines.length && length < MAX_RULE) {
      parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -1);
      parts.push(lines[++i]!);
      length += parts[parts.length - 1]!.length;
    }
    let rule = parts.join(" ");
    rule = stripComment(rule).trim();
    if (rule === "") continue;
    if (/^Defaults\b/.test(rule)) {
      if (/(^|[\s,])!\s*authenticate\b/.test(rule.replace(/^Defaults\S*/, ""))) out.push(grant(first, rule));
      continue;
    }
    if (/^(User|Runas|Host|Cmnd|Cmd)_Alias\b/.test(rule) || rule.startsWith("@") || rule.startsWith("#"))
      continue;
    const tagged = rule.split(/NOPASSWD\s*:/).slice(1);
    if (tagged.some((after) => commandsOf(after).includes("ALL"))) out.push(grant(first, rule));
  }
  return out;
}

const grant = (line: number, rule: string): SudoersGrant => ({ line, text: rule.slice(0, 200) });

// `#include`/`#includedir` and `#<uid>` are not comments in sudoers
function stripComment(rule: string): string {
  const at = rule.search(/#(?!include|\d)/);
  return at < 0 ? rule : rule.slice(0, at);
}

/** The commands a tag governs, up to the next `:`-separated host or runas clause: `PASSWD:` ends it. */
function commandsOf(after: string): string[] {
  const until = after.split(/\bPASSWD\s*:/)[0]!;
  return until
    .split(",")
    .map((c) => c.replace(/^\s*(?:[A-Z_]+\s*:\s*)*/, "").trim())
    .filter(Boolean);
}
