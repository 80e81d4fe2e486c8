import { describe, expect, it } from "vitest";
import { isWithdrawn, OsvRecordSchema, parseOsvRecord } from "../../shared/vulndb/osv.js";
import { advisorySeverity, cvssBaseScore, severityFromScore } from "../../shared/vulndb/severity.js";
import { fixtureRecord, fixtureRecords } from "./support/fixture-records.js";

describe("OSV record schema", () => {
  const valid = [
    ...fixtureRecords("debian"),
    ...fixtureRecords("ghsa"),
    ...fixtureRecords("go"),
    ...fixtureRecords("pypi"),
    ...fixtureRecords("pypi-pysec-yaml"),
  ];

  it.each(valid.map((v) => [v.file, v.record] as const))("accepts the real record %s", (_file, record) => {
    const parsed = parseOsvRecord(record);
    expect(parsed.ok ? "ok" : parsed.reason).toBe("ok");
  });

  it("accepts the multi-release Alpine record from the osv-linter tests", () => {
    expect(parseOsvRecord(fixtureRecord("linter/CVE-2018-5407.json")).ok).toBe(true);
  });

  it("rejects a range without an introduced event, naming the record and the field", () => {
    const parsed = parseOsvRecord(fixtureRecord("linter/nointroduced-CVE-2023-41045.json"));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/^CVE-2023-41045: affected\.0\.ranges\.0.*introduced/);
  });

  it.each([
    ["no id", { modified: "2024-01-01T00:00:00Z" }],
    ["no modified", { id: "X-1" }],
    ["a non-UTC modified", { id: "X-1", modified: "2024-01-01 00:00" }],
    [
      "an event with two kinds",
      {
        id: "X-1",
        modified: "2024-01-01T00:00:00Z",
        affected: [
          {
            package: { ecosystem: "npm", name: "a" },
            ranges: [{ type: "SEMVER", events: [{ introduced: "0", fixed: "1.0.0" }] }],
          },
        ],
      },
    ],
    [
      "a GIT range without repo",
      {
        id: "X-1",
        modified: "2024-01-01T00:00:00Z",
        affected: [
          {
            package: { ecosystem: "npm", name: "a" },
            ranges: [{ type: "GIT", events: [{ introduced: "0" }] }],
          },
        ],
      },
    ],
    [
      "an unknown severity type",
      { id: "X-1", modified: "2024-01-01T00:00:00Z", severity: [{ type: "CVSS_V9", score: "x" }] },
    ],
    ["not an object", "DSA-1"],
  ])("rejects a record with %s", (_what, raw) => {
    expect(parseOsvRecord(raw).ok).toBe(false);
  });

  it("treats a withdrawal dated in the future as not yet withdrawn", () => {
    const record = OsvRecordSchema.parse(fixtureRecord("pypi/withdrawn_after_now.json"));
    expect(isWithdrawn(record, new Date("2025-01-01T00:00:00Z"))).toBe(false);
    expect(isWithdrawn(record, new Date("3002-01-01T00:00:00Z"))).toBe(true);
  });
});

describe("severity", () => {
  it.each([
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"],
    ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "high"],
    ["CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:N/A:N", 6, "medium"],
    ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "critical"],
  ])("scores %s as %f (%s)", (vector, score, severity) => {
    expect(cvssBaseScore(vector)).toBe(score);
    expect(severityFromScore(score)).toBe(severity);
  });

  it("gives no score for an incomplete or unknown vector", () => {
    expect(cvssBaseScore("CVSS:3.1/AV:N")).toBeUndefined();
    expect(cvssBaseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P")).toBeUndefined();
    expect(cvssBaseScore("garbage")).toBeUndefined();
  });

  it("falls back to GHSA's own rating when there is no vector", () => {
    const record = OsvRecordSchema.parse(fixtureRecord("ghsa/GHSA-5crp-9r3c-p9vr.json"));
    expect(advisorySeverity(record, record.affected![0]!)).toEqual({ severity: "low", source: "advisory" });
  });

  it("reads Debian urgency and Ubuntu priority", () => {
    const base = { id: "X-1", modified: "2024-01-01T00:00:00Z" };
    const debian = OsvRecordSchema.parse({
      ...base,
      affected: [
        { package: { ecosystem: "Debian:12", name: "a" }, ecosystem_specific: { urgency: "unimportant" } },
      ],
    });
    expect(advisorySeverity(debian, debian.affected![0]!).severity).toBe("low");
    const ubuntu = OsvRecordSchema.parse({
      ...base,
      affected: [
        {
          package: { ecosystem: "Ubuntu:22.04:LTS", name: "a" },
          severity: [{ type: "Ubuntu", score: "medium" }],
        },
      ],
    });
    expect(advisorySeverity(ubuntu, ubuntu.affected![0]!).severity).toBe("medium");
    const none = OsvRecordSchema.parse({ ...base, affected: [{ package: { ecosystem: "Go", name: "a" } }] });
    expect(advisorySeverity(none, none.affected![0]!).severity).toBe("unknown");
  });
});
