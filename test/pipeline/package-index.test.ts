import { describe, expect, it } from "vitest";
import type { Package } from "../../shared/model/inventory.js";
import type { Report } from "../../shared/model/report.js";
import { imagesContaining, writePackageIndex } from "../../shared/stages/findings.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

/** The package index names images by the package names advisories use, so a change set finds them. */
const pkg = (ecosystem: string, name: string, source?: string): Package => ({
  name,
  version: "1.0",
  ecosystem,
  purl: `pkg:generic/${name}@1.0`,
  ...(source ? { source: { name: source, version: "1.0-1" } } : {}),
  layer: "sha256:aa",
  paths: [],
});

const report = (repository: string, packages: Package[]): Report => ({
  schemaVersion: 1,
  image: {
    ref: `registry.example/${repository}@sha256:${"b".repeat(64)}`,
    registry: "registry.example",
    repository,
    digest: `sha256:${"b".repeat(64)}`,
    tags: [],
    platform: { os: "linux", architecture: "amd64" },
  },
  packages,
  findings: [],
  warnings: [],
});

describe("the package index", () => {
  it.each([
    [
      "a dpkg binary by its source package",
      pkg("Debian:12", "libjq1", "jq"),
      { ecosystem: "Debian:12", name: "jq" },
    ],
    [
      "a PyPI name as PEP 503 normalizes it",
      pkg("PyPI", "Foo_Bar.baz"),
      { ecosystem: "PyPI", name: "foo-bar-baz" },
    ],
    [
      "a NuGet name in any case",
      pkg("NuGet", "Microsoft.NETCore.App"),
      { ecosystem: "NuGet", name: "microsoft.netcore.app" },
    ],
    [
      "a Windows product, as MSRC's advisories name it",
      pkg("Windows", "Windows Server 2022"),
      { ecosystem: "Windows", name: "Windows Server 2022" },
    ],
  ])("finds %s", async (_name, stored, changed) => {
    const tables = new MemoryTableStore();
    await writePackageIndex(tables, "scan-1", report("team/app", [stored]));
    expect(await imagesContaining(tables, [changed])).toEqual([
      {
        scanId: "scan-1",
        registry: "registry.example",
        repository: "team/app",
        digest: `sha256:${"b".repeat(64)}`,
      },
    ]);
    expect(await imagesContaining(tables, [{ ecosystem: "Debian:11", name: "jq" }])).toEqual([]);
  });

  it("names an image once however many changed packages it holds", async () => {
    const tables = new MemoryTableStore();
    await writePackageIndex(
      tables,
      "scan-1",
      report("team/app", [pkg("Debian:12", "jq"), pkg("Debian:12", "curl")]),
    );
    await writePackageIndex(tables, "scan-2", report("team/other", [pkg("Debian:12", "curl")]));
    const found = await imagesContaining(tables, [
      { ecosystem: "Debian:12", name: "jq" },
      { ecosystem: "Debian:12", name: "curl" },
    ]);
    expect(found.map((i) => i.repository).sort()).toEqual(["team/app", "team/other"]);
  });
});
