import { describe, expect, it } from "vitest";
import { advisoryCoordinates, matchPackages } from "../../shared/matching/match.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";
import { pkg } from "./support/packages.js";

/** 100,000 GHSA-shaped npm records over 20,000 packages: two ranges, aliases, a CVSS vector each. */
function* records(): Generator<Record<string, unknown>> {
  for (let i = 0; i < 100_000; i++) {
    const major = i % 7;
    yield {
      id: `GHSA-${i.toString(36).padStart(4, "0")}-perf-test`,
      modified: "2024-06-01T00:00:00Z",
      aliases: [`CVE-2024-${100000 + i}`],
      summary: `Prototype pollution in pkg-${i % 20_000}`,
      severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
      affected: [
        {
          package: { ecosystem: "npm", name: `pkg-${i % 20_000}` },
          ranges: [
            {
              type: "SEMVER",
              events: [
                { introduced: "0" },
                { fixed: `${major}.4.${i % 13}` },
                { introduced: `${major + 1}.0.0` },
                { fixed: `${major + 1}.2.${i % 5}` },
              ],
            },
          ],
        },
      ],
    };
  }
}

describe("matching performance", () => {
  it("matches 1,000 packages against 100,000 advisories well under a second once loaded", async () => {
    const store = new MemoryBlobStore();
    await buildDbFromRecords(store, records());
    const db = (await openDb(store))!;
    const packages = Array.from({ length: 1000 }, (_, i) =>
      pkg("npm", `pkg-${i * 20}`, `${i % 9}.3.${i % 11}`),
    );
    const lookup = await db.preload(packages.map(advisoryCoordinates));
    matchPackages(packages.slice(0, 50), lookup); // warm the JIT, as a long-lived worker would be
    const start = performance.now();
    const matches = matchPackages(packages, lookup);
    const elapsed = performance.now() - start;
    expect(matches.length).toBeGreaterThan(1000);
    // ~80 ms on an idle 2-core runner; the bound leaves room for a loaded CI machine
    expect(elapsed).toBeLessThan(1000);
  }, 300_000);
});
