/** A PowerShell single-quoted literal: nothing inside is expanded, and `'` is doubled. */
export const psQuote = (text: string): string => `'${text.replace(/'/g, "''")}'`;
