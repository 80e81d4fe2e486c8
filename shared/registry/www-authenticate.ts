/** One challenge from a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`. */
export interface AuthChallenge {
  /** lower-case: "bearer", "basic" */
  scheme: string;
  params: Record<string, string>;
}

const PARAM = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

/** Parses the first challenge of the header; undefined when there is none we can read. */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*/.exec(header);
  if (!match?.[1]) return undefined;
  const params: Record<string, string> = {};
  PARAM.lastIndex = match[0].length;
  for (let m = PARAM.exec(header); m; m = PARAM.exec(header)) {
    const key = m[1]?.toLowerCase();
    if (key === undefined) break;
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    if (PARAM.lastIndex >= header.length) break;
  }
  return { scheme: match[1].toLowerCase(), params };
}
