/**
 * The module information Go ≥ 1.18 embeds in every binary it links (runtime/debug.BuildInfo): a
 * 32-byte header starting with "\xff Go buildinf:" (16-byte aligned), then — flag bit 2 set — the
 * Go version and the module list as uvarint-length-prefixed strings.
 */

import { ChunkedBytes } from "../chunked-bytes.js";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const FLAG_VERSION_INLINE = 0x2;
// the module list of a large binary runs to tens of kilobytes; a string this long is damage
const MAX_STRING = 4 * 1024 * 1024;

export interface GoModule {
  path: string;
  version: string;
}

export interface GoBuildInfo {
  /** "go1.22.4" */
  goVersion: string;
  /** the main module (absent for `go run` or GOPATH builds) */
  main?: GoModule;
  deps: GoModule[];
}

/**
 * The build info of an ELF, PE or Mach-O binary, whole or in the layer walk's chunks; undefined when
 * there is none, a string when it cannot be read.
 */
export function readGoBuildInfo(content: Buffer | ChunkedBytes): GoBuildInfo | string | undefined {
  const binary = ChunkedBytes.of(content);
  let at = binary.indexOf(MAGIC);
  while (at >= 0 && at % 16 !== 0) at = binary.indexOf(MAGIC, at + 1);
  if (at < 0 || at + 32 > binary.length) return undefined;
  const flags = binary.slice(at + 15, at + 16)[0]!;
  if ((flags & FLAG_VERSION_INLINE) === 0) {
    return "built by Go before 1.18 (module information held by pointer); not read";
  }
  const version = readString(binary, at + 32);
  if (!version) return "build info header is damaged";
  const modinfo = readString(binary, version.next);
  if (!modinfo) return "build info module list is damaged";
  return { goVersion: version.text, ...parseModinfo(modinfo.text) };
}

function readString(buf: ChunkedBytes, from: number): { text: string; next: number } | undefined {
  // a uvarint of at most 5 bytes (shift ≤ 28)
  const prefix = buf.slice(Math.min(from, buf.length), Math.min(from + 5, buf.length));
  let length = 0;
  let shift = 0;
  let at = 0;
  for (;;) {
    if (at >= prefix.length || shift > 28) return undefined;
    const b = prefix[at++]!;
    length |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const start = from + at;
  if (length > MAX_STRING || start + length > buf.length) return undefined;
  return { text: buf.slice(start, start + length).toString("utf8"), next: start + length };
}

/** `path`, `mod`, `dep` and `=>` (replacement of the line before) lines, between 16-byte sentinels. */
function parseModinfo(raw: string): { main?: GoModule; deps: GoModule[] } {
  const text = raw.length >= 33 && raw[raw.length - 17] === "\n" ? raw.slice(16, -16) : raw;
  let main: GoModule | undefined;
  const deps: GoModule[] = [];
  let last: GoModule | undefined;
  for (const line of text.split("\n")) {
    const [kind, path, version] = line.split("\t");
    if (!path) continue;
    if (kind === "mod") last = main = { path, version: version ?? "" };
    else if (kind === "dep") {
      last = { path, version: version ?? "" };
      deps.push(last);
    } else if (kind === "=>" && last) {
      // a replace directive: the module actually built in is the replacement
      last.path = path;
      last.version = version ?? "";
    }
  }
  return { ...(main ? { main } : {}), deps };
}
