import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { identifyNugetPackage, nugetAnalyzer } from "../../../shared/analysis/nuget/nuget-analyzer.js";
import { corpusPath } from "../../support/corpus.js";

const analyze = async (path: string, content: Buffer) => {
  const out = await nugetAnalyzer.analyze({ path, content });
  return {
    ids: (out.packages ?? []).map((p) => `${p.name}@${p.version}`).sort(),
    warnings: out.warnings ?? [],
  };
};

/** Trivy's golden report for the same input: every package it found vulnerable must be in our inventory. */
function trivyPackages(kase: string): string[] {
  const golden = JSON.parse(
    readFileSync(corpusPath("osv/pairs/trivy-integration", kase, "expected.json.golden"), "utf8"),
  ) as {
    Results: { Vulnerabilities?: { PkgName: string; InstalledVersion: string }[] }[];
  };
  return [
    ...new Set(
      golden.Results.flatMap((r) =>
        (r.Vulnerabilities ?? []).map((v) => `${v.PkgName}@${v.InstalledVersion}`),
      ),
    ),
  ];
}

describe("NuGet", () => {
  it("finds in a deps.json every package Trivy found there, and no project or reference entry", async () => {
    const file = corpusPath("osv/pairs/trivy-integration/dotnet/input/datacollector.deps.json");
    const { ids, warnings } = await analyze("app/datacollector.deps.json", readFileSync(file));
    expect(warnings).toEqual([]);
    const expected = trivyPackages("dotnet");
    expect(expected.length).toBeGreaterThan(0);
    expect(ids).toEqual(expect.arrayContaining(expected));
    const libraries = JSON.parse(readFileSync(file, "utf8")).libraries as Record<string, { type: string }>;
    expect(ids.length).toBe(Object.values(libraries).filter((l) => l.type === "package").length);
  });

  it("finds in a packages.lock.json every package Trivy found there", async () => {
    const file = corpusPath("osv/pairs/trivy-integration/nuget/input/packages.lock.json");
    const { ids } = await analyze("src/packages.lock.json", readFileSync(file));
    expect(ids).toEqual(expect.arrayContaining(trivyPackages("nuget")));
  });

  it("reads the deps.json and lockfiles of other projects without a complaint, reference assemblies left out", async () => {
    for (const f of [
      "syft/deps-with-referenceassembly/MyApp.deps.json",
      "syft/dir-example-1/TestLibrary.deps.json",
      "syft/image-net8-app/packages.lock.json",
      "scalibr/depsjson-valid.deps.json",
      "scalibr/packages.lock.json",
    ]) {
      const { ids, warnings } = await analyze(
        `app/${f.split("/").pop()}`,
        readFileSync(corpusPath("pkgdb/dotnet", f)),
      );
      expect(warnings, f).toEqual([]);
      expect(ids.length, f).toBeGreaterThan(0);
    }
  });

  it("names packages as NuGet purls and leaves the runtime's and Chocolatey's files to their analyzers", () => {
    expect(identifyNugetPackage({ kind: "nuget", name: "Newtonsoft.Json", version: "12.0.3" }).purl).toBe(
      "pkg:nuget/Newtonsoft.Json@12.0.3",
    );
    expect(nugetAnalyzer.required("app/MyApp.deps.json")).toBe(true);
    expect(nugetAnalyzer.required("root/.nuget/packages/x/1.0.0/x.nuspec")).toBe(true);
    expect(
      nugetAnalyzer.required(
        "usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.1/Microsoft.NETCore.App.deps.json",
      ),
    ).toBe(false);
    expect(nugetAnalyzer.required("Files/ProgramData/chocolatey/lib/atom/atom.nuspec")).toBe(false);
  });

  it("answers malformed files with warnings", async () => {
    for (const [p, text] of [
      ["app/a.deps.json", '{"libraries": {"x/1.0": '],
      ["app/a.deps.json", "[]"],
      ["app/packages.lock.json", '{"version": 1}'],
      ["x/a.nuspec", "<package><metadata><id>a</id></metadata>"],
      ["x/a.nuspec", "\u0000\u0001 binary"],
    ] as const) {
      const { ids, warnings } = await analyze(p, Buffer.from(text));
      expect(ids).toEqual([]);
      expect(warnings.length, `${p} ${text}`).toBeGreaterThan(0);
    }
  });
});
