/** How many characters of input a warning may quote: enough to recognise, never the whole file. */
export const MAX_EXCERPT = 200;

/** `text` cut to `max` characters with the count of the rest, so a 4 MB field costs a short warning. */
export function excerpt(text: string, max = MAX_EXCERPT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
