import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdvisoryCollector } from "../../shared/vulndb/db-build.js";
import { DEBIAN_TRACKER_ECOSYSTEM, NVD_ECOSYSTEM } from "../../shared/vulndb/db-format.js";
import { collectTrackerFile } from "../../shared/vulndb/debian-tracker/tracker-feed.js";
import { trackerRatings, urgencySeverity } from "../../shared/vulndb/debian-tracker/tracker-json.js";
import { streamJsonFile } from "../../shared/vulndb/json-stream.js";
import { collectNvdFile } from "../../shared/vulndb/nvd/nvd-feed.js";
import { nvdSeverity } from "../../shared/vulndb/nvd/nvd-record.js";
import { OsvRecordSchema } from "../../shared/vulndb/osv.js";
import { sniffRatingDocument } from "../../shared/vulndb/rating-documents.js";
import { advisorySeverity } from "../../shared/vulndb/severity.js";
import { corpusPath } from "../support/corpus.js";
import { nvdDocument, nvdItem, trackerDocument } from "./support/rating-feeds.js";

const V31_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"; // 7.5
const V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
const V31_MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"; // 4.8
const V40_MEDIUM = "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N";
const V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"; // 7.5

describe("NVD's rating of a CVE (CVE API 2.0 item)", () => {
  it("takes NVD's own Primary metric over the CNA's Secondary one, whatever their versions", () => {
    const item = nvdItem("CVE-2024-0001", [
      { version: "4.0", type: "Secondary", vector: V40_MEDIUM, score: 4.8 },
      { version: "3.1", type: "Primary", vector: V31_CRITICAL, score: 9.8 },
    ]);
    expect(nvdSeverity(item)).toMatchObject({
      cveId: "CVE-2024-0001",
      severity: "critical",
      source: "nvd",
      cvss: { vector: V31_CRITICAL, score: 9.8 },
    });
  });

  it("falls back to the Secondary metric, v4.0 before v3.x, and to v2 by v2's bands (no critical in v2)", () => {
    expect(
      nvdSeverity(
        nvdItem("CVE-2024-0002", [
          { version: "3.1", type: "Secondary", vector: V31_HIGH, score: 7.5 },
          { version: "4.0", type: "Secondary", vector: V40_MEDIUM, score: 4.8 },
        ]),
      ),
    ).toMatchObject({ severity: "medium", cvss: { vector: V40_MEDIUM } });
    expect(
      nvdSeverity(
        nvdItem("CVE-2010-0003", [{ version: "2.0", type: "Primary", vector: V2_HIGH, score: 7.5 }]),
      ),
    ).toMatchObject({ severity: "high", source: "nvd", cvss: { vector: V2_HIGH, score: 7.5 } });
  });

  it("computes the score from the vector, and rates nothing for rejected, unscored or hostile items", () => {
    expect(
      nvdSeverity(
        nvdItem("CVE-2024-0004", [{ version: "3.1", type: "Primary", vector: V31_HIGH, score: 1.0 }]),
      ),
    ).toMatchObject({ severity: "high", cvss: { score: 7.5 } });
    const hostile: unknown[] = [
      nvdItem("CVE-2024-0005", [{ version: "3.1", type: "Primary", vector: V31_HIGH, score: 7.5 }], {
        status: "Rejected",
      }),
      nvdItem("CVE-2024-0006", []),
      nvdItem("CVE-2024-0007", [
        { version: "3.1", type: "Primary", vector: "CVSS:3.1/AV:N/garbage", score: 10 },
      ]),
      nvdItem("CVE-2024-0008", [{ version: "2.0", type: "Primary", vector: "AV:X/AC:L", score: 10 }]),
      nvdItem("CVE-2024-0009", [{ version: "3.1", type: "Primary", vector: "x".repeat(100_000), score: 10 }]),
      nvdItem("not-a-cve", [{ version: "3.1", type: "Primary", vector: V31_HIGH, score: 7.5 }]),
      { cve: { id: "CVE-2024-0010", metrics: { cvssMetricV31: ["x", 7, null, { type: "Primary" }] } } },
      { cve: { id: "CVE-2024-0011", metrics: { cvssMetricV31: { not: "an array" } } } },
      null,
      "CVE-2024-0012",
      [],
    ];
    for (const raw of hostile) expect(nvdSeverity(raw)).toBeUndefined();
  });
});

describe("the Debian tracker's urgency", () => {
  it.each([
    ["high", "high"],
    ["medium", "medium"],
    ["low", "low"],
    ["unimportant", "low"],
    ["low**", "low"],
    ["not yet assigned", undefined],
    ["end-of-life", undefined],
    ["", undefined],
  ])("%s rates %s", (urgency, severity) => {
    expect(urgencySeverity(urgency)).toBe(severity);
  });

  it("rates each numbered release of a CVE; sid, TEMP ids, prototype keys and hostile shapes rate nothing", () => {
    const releases = {
      bookworm: { status: "resolved", urgency: "high", fixed_version: "1.0-1+deb12u1" },
      bullseye: { status: "open", urgency: "not yet assigned" },
      sid: { status: "resolved", urgency: "low", fixed_version: "1.0-2" },
      constructor: { status: "open", urgency: "high" },
      __proto__: { status: "open", urgency: "high" },
      trixie: { status: "open", urgency: 5 },
    };
    expect(trackerRatings("openssl", "CVE-2024-0001", { releases })).toEqual([
      { ecosystem: "Debian:12", sourcePackage: "openssl", cveId: "CVE-2024-0001", severity: "high" },
    ]);
    expect(trackerRatings("openssl", "TEMP-0000000-ABCDEF", { releases })).toEqual([]);
    for (const raw of [null, "x", { releases: "x" }, { releases: [] }, {}])
      expect(trackerRatings("openssl", "CVE-2024-0001", raw)).toBeUndefined();
  });
});

describe("Red Hat's own rating (CSAF aggregate_severity, as the OSV record carries it)", () => {
  const read = (file: string) =>
    JSON.parse(readFileSync(corpusPath("osv/redhat-csaf-to-osv-pair", file), "utf8")) as Record<
      string,
      unknown
    >;
  const csaf = read("rhsa-2024_4546.csaf.json") as { document: { aggregate_severity: { text: string } } };
  const redHatToSeverity: Record<string, string> = {
    Critical: "critical",
    Important: "high",
    Moderate: "medium",
    Low: "low",
  };

  it("the real RHSA record rates as the CSAF document it was converted from, not by its CVSS", () => {
    const record = OsvRecordSchema.parse(read("RHSA-2024_4546.osv.json"));
    expect(advisorySeverity(record, record.affected![0]!)).toMatchObject({
      severity: redHatToSeverity[csaf.document.aggregate_severity.text],
      source: "distribution",
      cvss: { score: 7.5 },
    });
  });

  it("a Moderate classification beside a CVSS 7.5 vector is medium: Red Hat's rating wins", () => {
    const raw = read("RHSA-2024_4546.osv.json") as { references: { type: string; url: string }[] };
    const moderate = OsvRecordSchema.parse({
      ...raw,
      references: raw.references.map((r) =>
        r.url.includes("/classification/") ? { ...r, url: r.url.replace("#important", "#moderate") } : r,
      ),
    });
    expect(advisorySeverity(moderate, moderate.affected![0]!)).toMatchObject({
      severity: "medium",
      source: "distribution",
    });
    // the classification link means nothing in another distribution's record
    const rocky = OsvRecordSchema.parse({
      ...moderate,
      affected: [{ ...moderate.affected![0]!, package: { ecosystem: "Rocky Linux:8", name: "git-lfs" } }],
    });
    expect(advisorySeverity(rocky, rocky.affected![0]!)).toMatchObject({
      severity: "high",
      source: "advisory-cvss",
    });
  });
});

describe("streamed feed documents: malformed, truncated, oversized", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-rating-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, data: string | Buffer) => {
    const p = path.join(dir, name);
    await writeFile(p, data);
    return p;
  };
  const nvd = JSON.stringify(
    nvdDocument([
      nvdItem("CVE-2024-0001", [{ version: "3.1", type: "Primary", vector: V31_HIGH, score: 7.5 }]),
      { cve: { id: 42 } },
      nvdItem("CVE-2024-0002", [{ version: "3.1", type: "Secondary", vector: V31_MEDIUM, score: 4.8 }]),
    ]),
  );

  it("reads an NVD year file, plain or gzip, skipping items that are not NVD's shape", async () => {
    for (const p of [await file("nvd.json", nvd), await file("nvdcve-2.0-2024.json.gz", gzipSync(nvd))]) {
      expect(await sniffRatingDocument(p)).toBe("nvd");
      const collector = new AdvisoryCollector();
      await collectNvdFile(collector, p);
      const entries = collector.ecosystems.get(NVD_ECOSYSTEM)!;
      expect([...entries.keys()].sort()).toEqual(["CVE-2024-0001", "CVE-2024-0002"]);
      expect(entries.get("CVE-2024-0002")![0]).toMatchObject({ severity: "medium", severitySource: "nvd" });
      expect(collector.stats.skipped).toBe(1);
    }
  });

  it("reads the tracker's JSON by package and CVE", async () => {
    const p = await file(
      "json",
      JSON.stringify(
        trackerDocument({
          openssl: { "CVE-2024-0001": { bookworm: { status: "open", urgency: "medium" } } },
          curl: {
            "CVE-2024-0002": { bullseye: { status: "resolved", urgency: "unimportant", fixed_version: "0" } },
          },
        }),
      ),
    );
    expect(await sniffRatingDocument(p)).toBe("debian-tracker");
    const collector = new AdvisoryCollector();
    await collectTrackerFile(collector, p);
    const entries = collector.ecosystems.get(DEBIAN_TRACKER_ECOSYSTEM)!;
    expect(entries.get("Debian:12/openssl")).toMatchObject([{ id: "CVE-2024-0001", severity: "medium" }]);
    expect(entries.get("Debian:11/curl")).toMatchObject([{ id: "CVE-2024-0002", severity: "low" }]);
  });

  it("rejects a truncated document, a cut gzip, garbage and an empty file with a clear error", async () => {
    const cases = [
      await file("cut.json", nvd.slice(0, Math.floor(nvd.length / 2))),
      await file("cut.json.gz", gzipSync(nvd).subarray(0, 60)),
      await file("garbage.json", '{"vulnerabilities": [ {"cve": } ]}'),
      await file("empty.json", ""),
    ];
    for (const p of cases) {
      const collector = new AdvisoryCollector();
      await expect(collectNvdFile(collector, p), p).rejects.toMatchObject({ code: "db-feed-corrupt" });
    }
  });

  it("stops at the record bound and at the document bound (a gzip bomb) before memory grows", async () => {
    const huge = `{"vulnerabilities": [{"cve": {"id": "CVE-2024-0001", "pad": "${"a".repeat(1024 * 1024)}"}}]}`;
    await expect(
      streamJsonFile(await file("huge.json", huge), "$.vulnerabilities.*", () => {}, {
        maxValueBytes: 256 * 1024,
      }),
    ).rejects.toMatchObject({ code: "db-feed-too-large" });
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    await expect(
      streamJsonFile(await file("bomb.json.gz", bomb), "$.vulnerabilities.*", () => {}, {
        maxDocumentBytes: 1024 * 1024,
      }),
    ).rejects.toMatchObject({ code: "db-feed-too-large" });
  });

  it("an adversarial tracker document (deep nesting, wrong types) is skipped or refused, never a crash", async () => {
    const deep = `{"openssl": {"CVE-2024-0001": ${"[".repeat(50_000)}${"]".repeat(50_000)}}}`;
    const collector = new AdvisoryCollector();
    await collectTrackerFile(collector, await file("deep.json", deep));
    expect(collector.stats.skipped).toBe(1);
    const wrong = JSON.stringify({ openssl: "x", curl: { "CVE-2024-0002": 7 }, zlib: [1, 2] });
    const c2 = new AdvisoryCollector();
    await collectTrackerFile(c2, await file("wrong.json", wrong));
    expect(c2.ecosystems.size).toBe(0);
  });
});
