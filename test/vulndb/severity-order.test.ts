import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { matchInventory } from "../../shared/matching/match.js";
import { decide } from "../../shared/policy/decide.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { OsvRecordSchema } from "../../shared/vulndb/osv.js";
import { advisorySeverity, cvssBaseScore } from "../../shared/vulndb/severity.js";
import { pkg } from "../matching/support/packages.js";
import { corpusPath } from "../support/corpus.js";
import { MemoryBlobStore } from "./support/memory-blob-store.js";

const real = async (file: string) =>
  JSON.parse(await readFile(corpusPath("osv", file), "utf8")) as Record<string, unknown>;

const V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

describe("each advisory's severity and where it came from, on real records", () => {
  it.each([
    "ghsa/advisory-database/GHSA-35jh-r3h4-6jhm.json",
    "ghsa/advisory-database/GHSA-vh95-rmgr-6w4m.json",
    "ghsa/advisory-database/GHSA-xvch-5gv4-984h.json",
    "ghsa/trivy-db/GHSA-75v8-2h7p-7m2m.json",
  ])("%s: GitHub's own rating, the CVSS v3 vector kept beside it", async (file) => {
    const record = OsvRecordSchema.parse(await real(file));
    const rating = String(record.database_specific?.severity).toLowerCase();
    const expected = rating === "moderate" ? "medium" : rating;
    const vector = record.severity!.find((s) => s.type === "CVSS_V3")!.score;
    expect(advisorySeverity(record, record.affected![0]!)).toEqual({
      severity: expected,
      source: "advisory",
      cvss: { vector, score: cvssBaseScore(vector) },
    });
  });

  it("a GHSA with a CVSS v4 vector beside v3 keeps v4 (what GitHub shows)", async () => {
    const raw = await real("ghsa/advisory-database/GHSA-35jh-r3h4-6jhm.json");
    const v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    const record = OsvRecordSchema.parse({
      ...raw,
      severity: [...(raw.severity as unknown[]), { type: "CVSS_V4", score: v4 }],
    });
    expect(advisorySeverity(record, record.affected![0]!).cvss?.vector).toBe(v4);
  });

  it("a Debian DSA has no rating of its own: unknown, source none, until a CVE record rates it", async () => {
    const record = OsvRecordSchema.parse(await real("debian/DSA-3029-1.json"));
    expect(advisorySeverity(record, record.affected![0]!)).toEqual({ severity: "unknown", source: "none" });
  });

  it("Debian's tracker urgency and Ubuntu's priority are the distribution's rating, over a CVSS vector", () => {
    const debian = OsvRecordSchema.parse({
      id: "DEBIAN-CVE-2099-0001",
      modified: "2025-01-01T00:00:00Z",
      affected: [{ package: { ecosystem: "Debian:12", name: "a" }, ecosystem_specific: { urgency: "low" } }],
      severity: [{ type: "CVSS_V3", score: V31_CRITICAL }],
    });
    expect(advisorySeverity(debian, debian.affected![0]!)).toMatchObject({
      severity: "low",
      source: "distribution",
      cvss: { score: 9.8 },
    });
    const ubuntu = OsvRecordSchema.parse({
      id: "UBUNTU-CVE-2099-0002",
      modified: "2025-01-01T00:00:00Z",
      severity: [
        { type: "CVSS_V3", score: V31_CRITICAL },
        { type: "Ubuntu", score: "medium" },
      ],
      affected: [{ package: { ecosystem: "Ubuntu:22.04:LTS", name: "a" } }],
    });
    expect(advisorySeverity(ubuntu, ubuntu.affected![0]!)).toMatchObject({
      severity: "medium",
      source: "distribution",
    });
  });

  it("a record with a vector and no rating is rated by its CVSS, and says so", async () => {
    const raw = await real("redhat-csaf-to-osv-pair/RHSA-2024_4546.osv.json");
    // without the link to Red Hat's classification, the record's rating is gone (rating-parsers.test.ts)
    const record = OsvRecordSchema.parse({
      ...raw,
      references: (raw.references as { url: string }[]).filter((r) => !r.url.includes("/classification/")),
    });
    expect(advisorySeverity(record, record.affected![0]!)).toMatchObject({
      severity: "high",
      source: "advisory-cvss",
      cvss: { score: 7.5 },
    });
  });

  it("the verdict follows: GitHub's HIGH with a fix blocks; the finding carries its source", async () => {
    const record = await real("ghsa/advisory-database/GHSA-35jh-r3h4-6jhm.json");
    const affected = (
      record.affected as { package: { name: string }; ranges: { events: Record<string, string>[] }[] }[]
    )[0]!;
    const introduced = affected.ranges[0]!.events.find((e) => e.introduced)!.introduced!;
    const store = new MemoryBlobStore();
    await buildDbFromRecords(store, [record], { now: new Date("2025-07-01T00:00:00Z") });
    const installed = introduced === "0" ? "0.0.1" : introduced;
    const matches = await matchInventory(
      [pkg("npm", affected.package.name, installed)],
      (await openDb(store))!,
    );
    expect(matches[0]).toMatchObject({ severity: "high", severitySource: "advisory" });
    const decision = decide(matches, DEFAULT_POLICY, { repository: "team/app" });
    expect(matches[0]!.fixedVersion).toBe("4.17.21");
    expect(decision.verdict.decision).toBe("block");
  });
});
