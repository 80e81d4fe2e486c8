/**
 * A small PowerShell tokenizer for the remediation tests (`pwsh` is not on this machine): enough
 * of the language's quoting rules to tell whether a line's strings, braces and statements close.
 * Single-quoted strings double `'`; double-quoted ones escape with a backtick or doubled `"`.
 */
export type Token =
  | { kind: "single"; text: string }
  | { kind: "double"; text: string }
  | { kind: "word"; text: string }
  | { kind: "punct"; text: string };

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let text = "";
      for (i++; ; i++) {
        if (i >= line.length) throw new Error(`unterminated single-quoted string in: ${line}`);
        if (line[i] === "'" && line[i + 1] === "'") {
          text += "'";
          i++;
        } else if (line[i] === "'") break;
        else text += line[i];
      }
      i++;
      tokens.push({ kind: "single", text });
    } else if (c === '"') {
      let text = "";
      for (i++; ; i++) {
        if (i >= line.length) throw new Error(`unterminated double-quoted string in: ${line}`);
        if (line[i] === "`") text += line[++i] ?? "";
        else if (line[i] === '"' && line[i + 1] === '"') {
          text += '"';
          i++;
        } else if (line[i] === '"') break;
        else text += line[i];
      }
      i++;
      tokens.push({ kind: "double", text });
    } else if ("(){};|".includes(c)) {
      tokens.push({ kind: "punct", text: c });
      i++;
    } else {
      let text = "";
      while (i < line.length && !/[\s'"(){};|]/.test(line[i]!)) text += line[i++];
      tokens.push({ kind: "word", text });
    }
  }
  let depth = 0;
  for (const t of tokens) {
    if (t.kind !== "punct") continue;
    if (t.text === "(" || t.text === "{") depth++;
    if (t.text === ")" || t.text === "}") depth--;
    if (depth < 0) throw new Error(`unbalanced ${t.text} in: ${line}`);
  }
  if (depth !== 0) throw new Error(`unclosed bracket in: ${line}`);
  return tokens;
}

/** The statements of a line (split at `;` outside brackets), each as its tokens. */
export function statements(line: string): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokenize(line)) {
    if (t.kind === "punct" && (t.text === "(" || t.text === "{")) depth++;
    if (t.kind === "punct" && (t.text === ")" || t.text === "}")) depth--;
    if (t.kind === "punct" && t.text === ";" && depth === 0) out.push([]);
    else out.at(-1)!.push(t);
  }
  return out.filter((s) => s.length > 0);
}
