import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { matchInventory } from "../../shared/matching/match.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { type CvrfDocument, CvrfDocumentSchema } from "../../shared/vulndb/msrc/cvrf-schema.js";
import { cvrfToOsv } from "../../shared/vulndb/msrc/cvrf-to-osv.js";
import { pkg } from "../matching/support/packages.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";

const fixture = async (name: string): Promise<CvrfDocument> =>
  CvrfDocumentSchema.parse(
    JSON.parse(await readFile(new URL(`../fixtures/windows/msrc/${name}`, import.meta.url), "utf8")),
  );

type Vuln = {
  CVE: string;
  Threats: { Type: number; Description: { Value: string }; ProductID: string[] }[];
  CVSSScoreSets?: { BaseScore: number; Vector?: string; ProductID: string[] }[];
  Remediations: { Type: number; FixedBuild?: string; ProductID: string[]; Description?: { Value: string } }[];
};

/** The March 2024 document (CVE-2024-21392: .NET 7.0 and 8.0, Important, CVSS 7.5), deep-copied for edits. */
async function march2024(): Promise<CvrfDocument & { Vulnerability: Vuln[] }> {
  return structuredClone(await fixture("cvrf-2024-Mar.json")) as CvrfDocument & { Vulnerability: Vuln[] };
}

async function findingsFor(docs: CvrfDocument[], packages: ReturnType<typeof pkg>[]) {
  const { records, stats } = cvrfToOsv(docs);
  const store = new MemoryBlobStore();
  await buildDbFromRecords(store, records, { now: new Date("2025-09-01T00:00:00Z") });
  return { matches: await matchInventory(packages, (await openDb(store))!), stats };
}

const runtime = (version: string) => pkg("NuGet", "Microsoft.NETCore.App.Runtime.win-x64", version);

describe("MSRC .NET product names across the years", () => {
  it("2024: `.NET 8.0` matches the Windows runtime pack, rated by Microsoft with its CVSS kept", async () => {
    const { matches } = await findingsFor([await march2024()], [runtime("8.0.2")]);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({
      id: "CVE-2024-21392",
      fixedVersion: "8.0.3",
      severity: "high",
      severitySource: "advisory",
      cvss: { vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:P/RL:O/RC:C", score: 7.5 },
    });
  });

  it("2025: `.NET 8.0 installed on Windows` matches; `installed on Linux` and `on Mac OS` never do", async () => {
    const doc = await march2024();
    const names = doc.ProductTree.FullProductName!;
    // the same advisory as MSRC writes it from 2025 on: one product per operating system
    names.find((p) => p.Value === ".NET 8.0")!.Value = ".NET 8.0 installed on Windows";
    names.find((p) => p.Value === ".NET 7.0")!.Value = ".NET 7.0 installed on Mac OS";
    names.push({ ProductID: "99001", Value: ".NET 8.0 installed on Linux" });
    const vuln = doc.Vulnerability[0]!;
    vuln.Remediations.push({
      Type: 2,
      FixedBuild: "8.0.99",
      ProductID: ["99001"],
      Description: { Value: "" },
    });
    vuln.Threats.push({ Type: 3, Description: { Value: "Critical" }, ProductID: ["99001"] });

    const { matches, stats } = await findingsFor([doc], [runtime("8.0.2"), runtime("7.0.5")]);
    expect(matches.map((m) => [m.package.version, m.fixedVersion, m.severity])).toEqual([
      ["8.0.2", "8.0.3", "high"],
    ]);
    expect(stats.skipped["runtime-on-another-os"]).toBe(2);
  });

  it("an advisory only for .NET on Linux adds nothing a Windows image can match", async () => {
    const doc = await march2024();
    for (const p of doc.ProductTree.FullProductName!)
      p.Value = p.Value.replace(/^\.NET (\d+\.\d+)$/, ".NET $1 installed on Linux");
    const { matches } = await findingsFor([doc], [runtime("8.0.2"), runtime("7.0.5")]);
    expect(matches).toEqual([]);
  });
});

describe("Microsoft's own rating is the severity; the CVSS score stays beside it", () => {
  it.each([
    ["Critical", "critical"],
    ["Important", "high"],
    ["Moderate", "medium"],
    ["Low", "low"],
  ])("%s → %s, whatever band the CVSS 7.5 falls in", async (rating, severity) => {
    const doc = await march2024();
    for (const t of doc.Vulnerability[0]!.Threats) if (t.Type === 3) t.Description.Value = rating;
    const { matches } = await findingsFor([doc], [runtime("8.0.2")]);
    expect(matches[0]).toMatchObject({ severity, severitySource: "advisory", cvss: { score: 7.5 } });
  });

  it("an Important CVE whose CVSS bands as medium stays high (and blocks under the default policy)", async () => {
    const doc = await march2024();
    for (const s of doc.Vulnerability[0]!.CVSSScoreSets ?? []) {
      s.BaseScore = 5.5;
      s.Vector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H";
    }
    const { matches } = await findingsFor([doc], [runtime("8.0.2")]);
    expect(matches[0]).toMatchObject({ severity: "high", cvss: { score: 5.5 } });
  });

  it("2025 mapping-feed months carry a base score only: rated by the CVSS bands, said so", async () => {
    const { matches } = await findingsFor(
      [await fixture("cvrf-2025-Aug.json")],
      [pkg("Windows", "Windows 11 Version 22H2 for x64-based Systems", "10.0.22621.5000")],
    );
    const hit = matches.find((m) => m.id === "CVE-2025-49751");
    expect(hit).toMatchObject({ severity: "medium", severitySource: "advisory-cvss" });
  });
});
