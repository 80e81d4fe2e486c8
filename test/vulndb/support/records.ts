/** Small hand-made OSV records for cases the real corpus does not cover. */
export function osvRecord(
  id: string,
  ecosystem: string,
  name: string,
  events: Record<string, string>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    modified: "2024-06-01T00:00:00Z",
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events }] }],
    ...extra,
  };
}
