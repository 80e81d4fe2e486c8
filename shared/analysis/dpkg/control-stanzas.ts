/** One RFC 822-style stanza of a dpkg database: field names lower-cased, values with continuations joined by "\n". */
export interface Stanza {
  /** only the fields the caller asked to keep */
  fields: Map<string, string>;
  /** 1-based line of the stanza's first line, for warnings */
  line: number;
  /** lines that were neither `Field: value` nor a continuation */
  malformed: number;
  /** fields present but not kept */
  otherFields: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/**
 * Walks a dpkg status file one stanza at a time, straight over its bytes, decoding only the fields
 * in `keep`: a 64 MiB database with long descriptions costs the buffer and the packages, not a
 * string per line and a map per stanza all held at once. Lenient: blank-line runs, CRLF, stray lines
 * and a missing trailing newline are tolerated; judging a stanza is the caller's job.
 */
export function* readStanzas(data: Buffer, keep: ReadonlySet<string>): Generator<Stanza> {
  let current: Stanza | undefined;
  /** the field a continuation line belongs to; `null` when that field is not kept */
  let lastField: string | null | undefined;
  let lineNo = 0;
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(LF, start);
    if (end < 0) end = data.length;
    const next = end + 1;
    lineNo++;
    let stop = end;
    if (stop > start && data[stop - 1] === CR) stop--;
    if (isBlank(data, start, stop)) {
      if (current) yield current;
      current = undefined;
      lastField = undefined;
      start = next;
      continue;
    }
    current ??= { fields: new Map(), line: lineNo, malformed: 0, otherFields: 0 };
    const first = data[start];
    if (first === SPACE || first === TAB) {
      if (lastField === undefined) current.malformed++;
      else if (lastField !== null)
        current.fields.set(
          lastField,
          `${current.fields.get(lastField)}\n${data.toString("utf8", start + 1, stop)}`,
        );
      start = next;
      continue;
    }
    const colon = data.indexOf(COLON, start);
    if (colon <= start || colon >= stop) {
      current.malformed++;
      lastField = undefined;
      start = next;
      continue;
    }
    const name = data.toString("latin1", start, colon).trim().toLowerCase();
    if (keep.has(name)) {
      lastField = name;
      current.fields.set(name, data.toString("utf8", colon + 1, stop).trim());
    } else {
      lastField = null;
      current.otherFields++;
    }
    start = next;
  }
  if (current) yield current;
}

function isBlank(data: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const b = data[i];
    if (b !== SPACE && b !== TAB && b !== CR) return false;
  }
  return true;
}
