/**
 * Package names come from the scanned image, which may be hostile: anything beyond a plain
 * package-name alphabet is single-quoted so a pasted command cannot run something else.
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : quote(s);
}

export function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
