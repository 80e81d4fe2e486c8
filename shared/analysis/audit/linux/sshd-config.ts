/** One line of an sshd_config that matters before the first `Match` block. */
export type SshdLine = { line: number; keyword: string; value: string } | { line: number; include: string[] };

/**
 * Reads sshd_config(5) up to the first `Match` (what follows applies to some connections only):
 * `Keyword value` or `Keyword=value`, keywords case-insensitive, `#` starts a comment.
 */
export function parseSshdConfig(text: string): SshdLine[] {
  const out: SshdLine[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const m = /^([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toLowerCase();
    const value = m[2]!.trim().replace(/^"(.*)"$/, "$1");
    if (keyword === "match") break;
    if (keyword === "include") out.push({ line: i + 1, include: value.split(/\s+/).filter(Boolean) });
    else out.push({ line: i + 1, keyword, value });
  }
  return out;
}
