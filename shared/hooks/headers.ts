/** Request headers as the Functions runtime (`Headers`) or node:http (`IncomingHttpHeaders`) give them. */
export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/** A header's value, case-insensitively; repeated headers joined as HTTP does. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value.join(", ") : value;
  }
  return undefined;
}
