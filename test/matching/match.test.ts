import { describe, expect, it } from "vitest";
import { matchInventory, MatchSchema } from "../../shared/matching/match.js";
import type { Package } from "../../shared/model/inventory.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { fixtureRecord, fixtureRecords } from "../vulndb/support/fixture-records.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";
import { osvRecord } from "../vulndb/support/records.js";
import { pkg } from "./support/packages.js";

async function match(records: unknown[], packages: Package[]) {
  const store = new MemoryBlobStore();
  await buildDbFromRecords(store, records, { now: new Date("2025-07-01T00:00:00Z") });
  const matches = await matchInventory(packages, (await openDb(store))!);
  for (const m of matches) MatchSchema.parse(m);
  return matches;
}

describe("range events", () => {
  const cases: [string, Record<string, string>[], string, boolean, string?][] = [
    ["below introduced", [{ introduced: "1.2.0" }, { fixed: "1.4.0" }], "1.1.9", false],
    ["at introduced", [{ introduced: "1.2.0" }, { fixed: "1.4.0" }], "1.2.0", true, "1.4.0"],
    ["between introduced and fixed", [{ introduced: "1.2.0" }, { fixed: "1.4.0" }], "1.3.5", true, "1.4.0"],
    ["at fixed", [{ introduced: "1.2.0" }, { fixed: "1.4.0" }], "1.4.0", false],
    ["above fixed", [{ introduced: "1.2.0" }, { fixed: "1.4.0" }], "2.0.0", false],
    ["introduced 0 and a prerelease", [{ introduced: "0" }, { fixed: "1.0.0" }], "1.0.0-rc.1", true, "1.0.0"],
    ["no fixed event: affected from introduced on", [{ introduced: "1.0.0" }], "99.0.0", true],
    ["no fixed event, below introduced", [{ introduced: "1.0.0" }], "0.9.0", false],
    ["at last_affected", [{ introduced: "0" }, { last_affected: "1.4.0" }], "1.4.0", true],
    ["above last_affected", [{ introduced: "0" }, { last_affected: "1.4.0" }], "1.4.1", false],
    ["below limit", [{ introduced: "0" }, { limit: "2.0.0" }], "1.9.9", true],
    ["at limit", [{ introduced: "0" }, { limit: "2.0.0" }], "2.0.0", false],
    // pairs listed out of order are sorted by the scheme before walking them
    [
      "in the second of two unsorted pairs",
      [{ introduced: "2.0.0" }, { fixed: "2.3.0" }, { introduced: "1.0.0" }, { fixed: "1.5.0" }],
      "2.1.0",
      true,
      "2.3.0",
    ],
    [
      "between two pairs",
      [{ introduced: "2.0.0" }, { fixed: "2.3.0" }, { introduced: "1.0.0" }, { fixed: "1.5.0" }],
      "1.7.0",
      false,
    ],
    [
      "in the first of two unsorted pairs: the lowest fix above wins",
      [{ introduced: "2.0.0" }, { fixed: "2.3.0" }, { introduced: "1.0.0" }, { fixed: "1.5.0" }],
      "1.1.0",
      true,
      "1.5.0",
    ],
    [
      "semver 1.10 above 1.9 (not string order)",
      [{ introduced: "0" }, { fixed: "1.10.0" }],
      "1.9.0",
      true,
      "1.10.0",
    ],
  ];
  it.each(cases)("npm %s", async (_what, events, version, affected, fixedVersion) => {
    const [m, ...rest] = await match(
      [osvRecord("GHSA-aaaa-bbbb-cccc", "npm", "left-pad", events)],
      [pkg("npm", "left-pad", version)],
    );
    expect(rest).toEqual([]);
    expect(m !== undefined).toBe(affected);
    if (m) expect(m.fixedVersion).toBe(fixedVersion);
  });

  it("compares Debian ranges with dpkg rules (epoch, tilde)", async () => {
    const record = osvRecord("DEBIAN-CVE-2024-0001", "Debian:12", "glibc", [
      { introduced: "0" },
      { fixed: "2.36-9+deb12u4" },
    ]);
    const ms = await match(
      [record],
      [
        pkg("Debian:12", "libc6", "2.36-9+deb12u3", { name: "glibc", version: "2.36-9+deb12u3" }),
        pkg("Debian:12", "libc-bin", "2.36-9+deb12u4", { name: "glibc", version: "2.36-9+deb12u4" }),
        pkg("Debian:12", "libc-l10n", "2.36-9~bpo", { name: "glibc", version: "2.36-9~bpo" }),
      ],
    );
    expect(ms.map((m) => [m.package.name, m.id, m.fixedVersion])).toEqual([
      ["libc-l10n", "CVE-2024-0001", "2.36-9+deb12u4"],
      ["libc6", "CVE-2024-0001", "2.36-9+deb12u4"],
    ]);
  });
});

describe("explicit versions lists", () => {
  it("matches a version listed in `versions` even when the only ranges are GIT commits", async () => {
    const record = {
      id: "PYSEC-0000-1",
      modified: "2024-01-01T00:00:00Z",
      affected: [
        {
          package: { ecosystem: "PyPI", name: "Werkzeug" },
          ranges: [
            {
              type: "GIT",
              repo: "https://github.com/pallets/werkzeug",
              events: [{ introduced: "0" }, { fixed: "cf275f42acad1b5950c50ffe8ef58fe62cdce028" }],
            },
          ],
          versions: ["0.11", "0.11.1"],
        },
      ],
    };
    const ms = await match([record], [pkg("PyPI", "werkzeug", "0.11"), pkg("PyPI", "Werkzeug", "0.11.2")]);
    expect(ms.map((m) => [m.package.name, m.package.version])).toEqual([["werkzeug", "0.11"]]);
  });

  it("matches the real PyPA YAML record for werkzeug by range and by versions", async () => {
    const records = fixtureRecords("pypi-pysec-yaml/werkzeug").map((r) => r.record);
    const ms = await match(records, [pkg("PyPI", "Werkzeug", "2.2.2"), pkg("PyPI", "werkzeug", "3.0.6")]);
    expect(ms.filter((m) => m.package.version === "2.2.2").flatMap((m) => m.aliases.concat(m.id))).toContain(
      "PYSEC-2023-57",
    );
    expect(ms.filter((m) => m.package.version === "3.0.6")).toEqual([]);
  });
});

describe("withdrawn and release suffixes", () => {
  it("ignores a withdrawn record but not one whose withdrawal is still in the future", async () => {
    const gone = osvRecord("GHSA-gone-gone-gone", "npm", "left-pad", [{ introduced: "0" }], {
      withdrawn: "2024-01-01T00:00:00Z",
    });
    const later = fixtureRecord("pypi/withdrawn_after_now.json");
    const ms = await match([gone, later], [pkg("npm", "left-pad", "1.0.0"), pkg("PyPI", "SciPy", "0.12.0")]);
    expect(ms.map((m) => [m.package.name, m.id, m.fixedVersion])).toEqual([
      ["SciPy", "CVE-2013-4251", "0.12.1"],
    ]);
  });

  it("looks up Debian:7 records for a Debian:7 package only (DSA-3029-1, nginx)", async () => {
    const dsa = fixtureRecord("debian/DSA-3029-1.json");
    const ms = await match(
      [dsa],
      [
        pkg("Debian:7", "nginx-full", "1.2.1-2.2+wheezy2", { name: "nginx", version: "1.2.1-2.2+wheezy2" }),
        pkg("Debian:7", "nginx", "1.2.1-2.2+wheezy3", { name: "nginx", version: "1.2.1-2.2+wheezy3" }),
        pkg("Debian:8", "nginx", "1.2.1-2.2+wheezy2", { name: "nginx", version: "1.2.1-2.2+wheezy2" }),
      ],
    );
    expect(ms.map((m) => [m.package.ecosystem, m.package.name, m.id, m.aliases, m.fixedVersion])).toEqual([
      ["Debian:7", "nginx-full", "CVE-2014-3616", ["DSA-3029-1"], "1.2.1-2.2+wheezy3"],
    ]);
  });

  it("matches an Alpine release's records by origin package (CVE-2018-5407, openssl)", async () => {
    const rec = fixtureRecord("linter/CVE-2018-5407.json");
    const ms = await match(
      [rec],
      [
        pkg("Alpine:v3.8", "libcrypto1.0", "1.0.2o-r2", { name: "openssl", version: "1.0.2o-r2" }),
        pkg("Alpine:v3.8", "libssl1.0", "1.0.2q-r0", { name: "openssl", version: "1.0.2q-r0" }),
      ],
    );
    expect(ms.map((m) => [m.package.name, m.id, m.fixedVersion])).toEqual([
      ["libcrypto1.0", "CVE-2018-5407", "1.0.2q-r0"],
    ]);
    expect(ms[0]!.severity).not.toBe("unknown");
  });
});

describe("distribution packages match by source name and source version", () => {
  const utilLinux = osvRecord("DEBIAN-CVE-2024-28085", "Debian:12", "util-linux", [
    { introduced: "0" },
    { fixed: "2.38.1-5+deb12u4" },
  ]);

  it("matches util-linux by source version, ignoring the binary epoch", async () => {
    const ms = await match(
      [utilLinux],
      [
        pkg("Debian:12", "util-linux", "2.38.1-5+deb12u3", {
          name: "util-linux",
          version: "2.38.1-5+deb12u3",
        }),
        pkg("Debian:12", "libuuid1", "1:2.38.1-5+deb12u3", {
          name: "util-linux",
          version: "2.38.1-5+deb12u3",
        }),
        pkg("Debian:12", "bsdutils", "1:2.38.1-5+deb12u4", {
          name: "util-linux",
          version: "2.38.1-5+deb12u4",
        }),
      ],
    );
    expect(ms.map((m) => [m.package.name, m.package.version, m.fixedVersion])).toEqual([
      ["libuuid1", "1:2.38.1-5+deb12u3", "2.38.1-5+deb12u4"],
      ["util-linux", "2.38.1-5+deb12u3", "2.38.1-5+deb12u4"],
    ]);
  });

  it("matches a binNMU (bash 5.2.15-2+b13) by its source version 5.2.15-2", async () => {
    const bash = osvRecord("DEBIAN-CVE-2022-3715", "Debian:12", "bash", [
      { introduced: "0" },
      { last_affected: "5.2.15-2" },
    ]);
    const ms = await match(
      [bash],
      [
        pkg("Debian:12", "bash", "5.2.15-2+b13", { name: "bash", version: "5.2.15-2" }),
        // no Source: field at all: the binNMU suffix is still not part of the source version
        pkg("Debian:12", "bash", "5.2.15-2+b2"),
      ],
    );
    expect(ms.map((m) => [m.package.version, m.id])).toEqual([
      ["5.2.15-2+b13", "CVE-2022-3715"],
      ["5.2.15-2+b2", "CVE-2022-3715"],
    ]);
  });
});

describe("merging records about one vulnerability", () => {
  it("merges DEBIAN-CVE, DSA and GHSA-style records into one finding with the CVE as id", async () => {
    const records = [
      osvRecord(
        "DEBIAN-CVE-2024-0001",
        "Debian:12",
        "openssl",
        [{ introduced: "0" }, { fixed: "3.0.14-1~deb12u1" }],
        {
          affected: [
            {
              package: { ecosystem: "Debian:12", name: "openssl" },
              ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "3.0.14-1~deb12u1" }] }],
              ecosystem_specific: { urgency: "low" },
            },
          ],
        },
      ),
      osvRecord("DSA-5700-1", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.14-1~deb12u2" }], {
        aliases: ["CVE-2024-0001"],
      }),
      osvRecord("DSA-5701-1", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.14-1~deb12u2" }], {
        aliases: ["CVE-2024-0002"],
      }),
    ];
    const ms = await match(records, [
      pkg("Debian:12", "libssl3", "3.0.11-1~deb12u2", { name: "openssl", version: "3.0.11-1~deb12u2" }),
    ]);
    expect(ms.map((m) => [m.id, m.aliases, m.fixedVersion, m.severity])).toEqual([
      ["CVE-2024-0001", ["DEBIAN-CVE-2024-0001", "DSA-5700-1"], "3.0.14-1~deb12u2", "low"],
      ["CVE-2024-0002", ["DSA-5701-1"], "3.0.14-1~deb12u2", "unknown"],
    ]);
  });

  it("merges a PYSEC record with the GHSA it aliases, taking the CVSS severity (requests, CVE-2023-32681)", async () => {
    const pysec = fixtureRecord("pypi-pysec-yaml/requests/PYSEC-2023-74.yaml");
    const ghsa = osvRecord(
      "GHSA-j8r2-6x86-q33q",
      "PyPI",
      "requests",
      [{ introduced: "2.3.0" }, { fixed: "2.31.0" }],
      {
        aliases: ["CVE-2023-32681"],
        severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N" }],
        database_specific: { severity: "MODERATE" },
      },
    );
    const ms = await match([pysec, ghsa], [pkg("PyPI", "Requests", "2.20.0")]);
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatchObject({
      id: "CVE-2023-32681",
      aliases: ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"],
      fixedVersion: "2.31.0",
      severity: "medium",
      cvss: { vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", score: 6.1 },
      package: { name: "Requests", version: "2.20.0", ecosystem: "PyPI" },
    });
  });

  it("keeps GHSA as the id when the advisory has no CVE (Newtonsoft.Json) and rates it by GHSA severity", async () => {
    const ms = await match(
      [fixtureRecord("ghsa/GHSA-5crp-9r3c-p9vr.json")],
      [pkg("NuGet", "newtonsoft.json", "12.0.3")],
    );
    expect(ms.map((m) => [m.id, m.aliases, m.fixedVersion, m.severity])).toEqual([
      ["GHSA-5crp-9r3c-p9vr", [], "13.0.1", "low"],
    ]);
  });
});
