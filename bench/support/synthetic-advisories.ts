// Generated advisories for the benches: realistic shape, deterministic content.

export const ADVISORIES = 100_000;
export const PACKAGES_IN_DB = 20_000;

/** Realistic Debian-style records: a CVE per record, an introduced/fixed pair, a CVSS vector on some. */
export function* syntheticDebianRecords(): Generator<Record<string, unknown>> {
  for (let i = 0; i < ADVISORIES; i++) {
    const pkg = `srcpkg${i % PACKAGES_IN_DB}`;
    const minor = i % 17;
    yield {
      schema_version: "1.6.0",
      id: `CVE-2024-${String(10000 + i)}`,
      modified: "2024-06-01T00:00:00Z",
      published: "2024-05-01T00:00:00Z",
      summary: `synthetic vulnerability ${i} in ${pkg}`,
      ...(i % 3 === 0
        ? { severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }] }
        : {}),
      affected: [
        {
          package: { ecosystem: "Debian:12", name: pkg },
          ranges: [
            { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: `1.${minor}-${(i % 5) + 1}` }] },
          ],
          ...(i % 4 === 0 ? { database_specific: { urgency: "medium" } } : {}),
        },
      ],
    };
  }
}
