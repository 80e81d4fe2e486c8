/** One RFC 822-style stanza of a dpkg database: field names as written, values with continuations joined by "\n". */
export interface Stanza {
  fields: Map<string, string>;
  /** 1-based line of the stanza's first line, for warnings */
  line: number;
  /** lines that were neither `Field: value` nor a continuation */
  malformed: number;
}

/**
 * Splits a dpkg status file into stanzas, leniently: blank-line runs, CRLF, stray lines and
 * missing trailing newlines are tolerated; judging a stanza is the caller's job.
 */
export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastField: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      current = undefined;
      lastField = undefined;
      continue;
    }
    if (!current) {
      current = { fields: new Map(), line: i + 1, malformed: 0 };
      stanzas.push(current);
    }
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (lastField === undefined) current.malformed++;
      else current.fields.set(lastField, `${current.fields.get(lastField)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      current.malformed++;
      lastField = undefined;
      continue;
    }
    lastField = line.slice(0, colon).trim().toLowerCase();
    current.fields.set(lastField, line.slice(colon + 1).trim());
  }
  return stanzas;
}
