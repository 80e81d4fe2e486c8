import type { GoModule } from "./go-buildinfo.js";

/** One directive's words: a quoted module path keeps its spaces; `//` starts a comment. */
function words(line: string): string[] {
  const code = line.replace(/\/\/.*$/, "").trim();
  return (code.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, ""));
}

/**
 * The modules a `go.mod` requires (indirect ones too: Go ≥ 1.17 lists the full build list), with
 * `replace` directives that name a version applied; a replacement by a local path has no version
 * to match and drops the module.
 */
export function readGoMod(text: string): GoModule[] {
  const required = new Map<string, string>();
  const replaced = new Map<string, GoModule | undefined>();
  let block: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    let w = words(raw);
    if (w.length === 0) continue;
    if (block) {
      if (w[0] === ")") {
        block = undefined;
        continue;
      }
    } else if (w[1] === "(") {
      block = w[0];
      continue;
    } else {
      block = undefined;
      const verb = w[0]!;
      w = w.slice(1);
      if (verb === "require" && w.length >= 2) required.set(w[0]!, w[1]!);
      else if (verb === "replace") replace(w, replaced);
      continue;
    }
    if (block === "require" && w.length >= 2) required.set(w[0]!, w[1]!);
    else if (block === "replace") replace(w, replaced);
  }
  const out: GoModule[] = [];
  for (const [path, version] of required) {
    if (!replaced.has(path)) out.push({ path, version });
    else {
      const to = replaced.get(path);
      if (to) out.push(to);
    }
  }
  return out;
}

/** `old [v] => new [v]`: a new module with a version, or a directory (undefined). */
function replace(w: string[], replaced: Map<string, GoModule | undefined>): void {
  const arrow = w.indexOf("=>");
  if (arrow < 1) return;
  const [to, version] = w.slice(arrow + 1);
  replaced.set(w[0]!, to && version ? { path: to, version } : undefined);
}
