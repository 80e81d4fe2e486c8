/** What a shadow password field allows, never the hash itself (it is not kept anywhere). */
export type PasswordState = "empty" | "locked" | "des" | "md5" | "strong" | "unknown";

export interface ShadowEntry {
  user: string;
  line: number;
  state: PasswordState;
}

/**
 * Reads /etc/shadow (shadow(5)): `name:password:…`. An empty field logs in without a password; a
 * field starting with `!` or `*`, or one crypt(3) cannot produce, can never match.
 */
export function parseShadow(text: string): ShadowEntry[] {
  const out: ShadowEntry[] = [];
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(":");
    if (fields.length < 2 || fields[0] === "") continue;
    out.push({ user: fields[0]!, line: i + 1, state: passwordState(fields[1]!) });
  }
  return out;
}

// crypt(3) prefixes: yescrypt, gost-yescrypt, scrypt, SHA-2, bcrypt (all "strong" for this check)
const STRONG = /^\$(y|gy|7|5|6|2[abxy]?)\$/;

export function passwordState(field: string): PasswordState {
  if (field === "") return "empty";
  if (field.startsWith("!") || field.startsWith("*")) return "locked";
  if (field.startsWith("$1$") || field.startsWith("$md5")) return "md5";
  if (STRONG.test(field)) return "strong";
  // traditional DES: 13 characters of the crypt alphabet; BSDi extended DES starts with "_"
  if (/^[./0-9A-Za-z]{13}$/.test(field) || /^_[./0-9A-Za-z]{19}$/.test(field)) return "des";
  // anything else ("x", "NP", "LK") cannot be produced by crypt: no password matches it
  return field.startsWith("$") ? "unknown" : "locked";
}

/** A password that some input can match. */
export const isUsable = (state: PasswordState): boolean =>
  state === "empty" || state === "des" || state === "md5" || state === "strong" || state === "unknown";
