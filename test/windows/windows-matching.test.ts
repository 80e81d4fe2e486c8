import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { matchPackages } from "../../shared/matching/match.js";
import type { Package } from "../../shared/model/inventory.js";
import { AdvisoryCollector } from "../../shared/vulndb/db-build.js";
import { packageKey } from "../../shared/vulndb/db-format.js";
import { CvrfDocumentSchema, cvrfToOsv } from "../../shared/vulndb/msrc/index.js";
import { versioningFor } from "../../shared/vulndb/versioning/index.js";

const documents = ["2024-Mar", "2025-Aug"].map((id) =>
  CvrfDocumentSchema.parse(
    JSON.parse(
      readFileSync(
        fileURLToPath(new URL(`../fixtures/windows/msrc/cvrf-${id}.json`, import.meta.url)),
        "utf8",
      ),
    ),
  ),
);
const collector = new AdvisoryCollector({ now: new Date("2026-01-01T00:00:00Z") });
for (const record of cvrfToOsv(documents).records) collector.add(record);
const lookup = (ecosystem: string, name: string) =>
  collector.ecosystems.get(ecosystem)?.get(packageKey(ecosystem, name)) ?? [];

const pkg = (ecosystem: string, name: string, version: string): Package => ({
  name,
  version,
  ecosystem,
  purl: `pkg:generic/${encodeURIComponent(name)}@${version}`,
  layer: "sha256:base",
  paths: [],
});
const SERVER_2025_CORE = "Windows Server 2025 (Server Core installation)";

describe("Windows images matched against MSRC advisories", () => {
  it("compares builds with the Windows scheme: 10.0.26100.3775 < 26100.4946", () => {
    const windows = versioningFor("Windows")!;
    expect(windows.compare("10.0.26100.3775", "10.0.26100.4946")).toBeLessThan(0);
    expect(windows.compare("10.0.26100.4946", "26100.4946")).toBe(0);
  });

  it.each([
    ["below the fixed build", "10.0.26100.3775", true],
    ["equal to the fixed build", "10.0.26100.4946", false],
    ["above the fixed build", "10.0.26100.5074", false],
  ])("Server Core 2025 %s (%s) → vulnerable: %s", (_label, build, vulnerable) => {
    const hits = matchPackages([pkg("Windows", SERVER_2025_CORE, build)], lookup).filter(
      (m) => m.id === "CVE-2025-49751",
    );
    expect(hits.length > 0).toBe(vulnerable);
    if (vulnerable)
      expect(hits[0]).toMatchObject({ fixedVersion: "10.0.26100.4946", aliases: ["MSRC-CVE-2025-49751"] });
  });

  it("reports the August 2025 CVEs of an unpatched Server Core 2025; one base image at the highest fixed build clears them", () => {
    const matches = matchPackages([pkg("Windows", SERVER_2025_CORE, "10.0.26100.3775")], lookup);
    expect(matches.length).toBeGreaterThan(30);
    const windows = versioningFor("Windows")!;
    const highest = matches
      .map((m) => m.fixedVersion!)
      .sort(windows.compare)
      .at(-1)!;
    expect(highest).toBe("10.0.26100.4946");
    expect(matchPackages([pkg("Windows", SERVER_2025_CORE, highest)], lookup)).toEqual([]);
  });

  it("keeps products apart at the same build: Server Core, Nano Server and Windows 11 differ", () => {
    const build = "10.0.26100.3775";
    const core = matchPackages([pkg("Windows", SERVER_2025_CORE, build)], lookup);
    const full = matchPackages([pkg("Windows", "Windows Server 2025", build)], lookup);
    const nano = matchPackages(
      [pkg("Windows", "Windows Server 2025 (Nano Server installation)", build)],
      lookup,
    );
    const client = matchPackages(
      [pkg("Windows", "Windows 11 Version 24H2 for x64-based Systems", build)],
      lookup,
    );
    expect(core.length).toBe(full.length);
    expect(nano).toEqual([]);
    // the August 2025 feed lists no 24H2 client product, so a client image with a server build matches nothing
    expect(client).toEqual([]);
  });

  it("matches the .NET runtime pack by version line (CVE-2024-21392)", () => {
    const runtime = (v: string) =>
      matchPackages([pkg("NuGet", "Microsoft.NETCore.App.Runtime.win-x64", v)], lookup);
    expect(runtime("8.0.2")).toMatchObject([
      { id: "CVE-2024-21392", aliases: ["MSRC-CVE-2024-21392"], fixedVersion: "8.0.3", severity: "high" },
    ]);
    expect(runtime("8.0.3")).toEqual([]);
    expect(runtime("7.0.16")).toMatchObject([{ fixedVersion: "7.0.17" }]);
    expect(runtime("6.0.27")).toEqual([]);
  });
});
