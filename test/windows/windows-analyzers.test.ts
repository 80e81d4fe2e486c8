import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cbsState, parseCbsPackage } from "../../shared/analysis/windows/cbs-package.js";
import {
  dotnetRuntimeAnalyzer,
  overlayWindowsFacts,
  powershellAnalyzer,
  softwareHiveAnalyzer,
  windowsAnalyzers,
  windowsInventory,
  windowsProductName,
} from "../../shared/analysis/windows/index.js";
import { netFrameworkVersion } from "../../shared/analysis/windows/netfx-release.js";
import { RegType } from "../../shared/analysis/windows/regf/index.js";
import { buildHiveWithHivex } from "./support/hivexregedit.js";
import { analyzeLayerDir } from "./support/layer-dir.js";
import type { RegKey, RegValue } from "./support/reg-file.js";
import { corpusPath } from "../support/corpus.js";

const fixture = (name: string) => corpusPath(name);
const utf16z = (s: string) => Buffer.from(`${s}\0`, "utf16le");
const hiveData = (hive: Buffer) =>
  softwareHiveAnalyzer.analyze({ path: "Hives/Software_Delta", content: hive });

describe("Windows analyzers on the scancode container layer", () => {
  it("lists the Uninstall programs of Hives/Software_Delta as scancode expects (Test, Test2)", async () => {
    const outputs = await analyzeLayerDir(fixture("images/windows-layer-scancode/layer"), windowsAnalyzers);
    const data = outputs.get("windows-software-hive")!.map((o) => o.data);
    expect(data).toHaveLength(1);
    const facts = overlayWindowsFacts(data);
    const expected = JSON.parse(
      readFileSync(fixture("images/windows-layer-scancode/expected-results.json"), "utf8"),
    ) as {
      packages: { name: string; version: string; parties: { name: string }[] }[];
    };
    expect(facts.programs.map(({ name, version, publisher }) => ({ name, version, publisher }))).toEqual(
      expected.packages.map((p) => ({ name: p.name, version: p.version, publisher: p.parties[0]?.name })),
    );
    expect(facts.os).toBeUndefined();
    const inventory = windowsInventory(facts);
    expect(inventory.packages.map((p) => `${p.kind}:${p.name}@${p.version}`)).toEqual([
      "windows-program:Test@0.0.1",
      "windows-program:Test2@0.0.1",
    ]);
  });
});

describe("Windows analyzers on a real container SOFTWARE hive (scancode's regipy dump, rebuilt with hivex)", () => {
  type Dump = { path: string; values: { name: string; value: string | number; value_type: string }[] }[];
  const dump = JSON.parse(
    readFileSync(fixture("pkgdb/windows/scancode/SOFTWARE-registry-entries.json"), "utf8"),
  ) as Dump;
  const keys: RegKey[] = dump.map((entry) => ({
    path: entry.path.split("\\").filter(Boolean),
    values: entry.values.map((v): RegValue => {
      if (v.value_type === "REG_DWORD") return { name: v.name, dword: Number(v.value) };
      // regipy shows an empty string as 0
      const s = typeof v.value === "string" ? v.value : "";
      return {
        name: v.name,
        type: v.value_type === "REG_EXPAND_SZ" ? RegType.EXPAND_SZ : RegType.SZ,
        bytes: utf16z(s),
      };
    }),
  }));
  const facts = overlayWindowsFacts([hiveData(buildHiveWithHivex("ROOT", keys).hive).data]);

  it("finds the installed programs scancode found", () => {
    const expected = (
      JSON.parse(
        readFileSync(fixture("pkgdb/windows/scancode/SOFTWARE-installed-programs.expected"), "utf8"),
      ) as {
        name: string | null;
        version: string | null;
        parties: { name: string }[];
      }[]
    )
      .filter((p) => p.name !== null)
      .map((p) => ({ name: p.name, version: p.version, publisher: p.parties[0]?.name }));
    const ours = facts.programs.map(({ name, version, publisher }) => ({ name, version, publisher }));
    expect(ours).toHaveLength(7);
    expect(new Set(ours.map((p) => JSON.stringify(p)))).toEqual(
      new Set(expected.map((p) => JSON.stringify(p))),
    );
  });

  it("reads .NET Framework 4.8 from NDP\\v4\\Full Release 528372, with scancode's version string", () => {
    const expected = JSON.parse(
      readFileSync(fixture("pkgdb/windows/scancode/SOFTWARE-dotnet-installation.expected"), "utf8"),
    ) as {
      version: string;
    }[];
    expect(facts.netFramework).toEqual({
      release: 528372,
      version: "4.8",
      versionString: expected[0]!.version,
    });
  });
});

describe("OS build, updates and products from overlaid hive deltas", () => {
  const dism = readFileSync(fixture("pkgdb/windows/scalibr/dism/dism_testdata.txt"), "utf8");
  const dismPackages = [...dism.matchAll(/Package Identity : (\S+)\r?\nState : (\w+)/g)].map((m) => ({
    identity: m[1]!,
    state: m[2]!,
  }));
  const cbsPath = ["Microsoft", "Windows", "CurrentVersion", "Component Based Servicing", "Packages"];
  const CURRENT_VERSION = ["Microsoft", "Windows NT", "CurrentVersion"];
  const base = buildHiveWithHivex("ROOT", [
    {
      path: CURRENT_VERSION,
      values: [
        { name: "ProductName", string: "Windows Server 2022 Datacenter" },
        { name: "EditionID", string: "ServerDatacenter" },
        { name: "InstallationType", string: "Server Core" },
        { name: "CurrentBuildNumber", string: "20348" },
        { name: "DisplayVersion", string: "21H2" },
        { name: "UBR", dword: 2700 },
      ],
    },
    ...dismPackages.map((p) => ({
      path: [...cbsPath, p.identity],
      values: [{ name: "CurrentState", dword: p.state === "Installed" ? 0x70 : 0x50 }],
    })),
    {
      path: ["Microsoft", "InetStp"],
      values: [
        { name: "MajorVersion", dword: 10 },
        { name: "MinorVersion", dword: 0 },
      ],
    },
    {
      path: ["Microsoft", "PowerShell", "3", "PowerShellEngine"],
      values: [{ name: "PowerShellVersion", string: "5.1.20348.1" }],
    },
  ]).hive;
  // a later layer's delta carries only what the cumulative update changed
  const patch = buildHiveWithHivex("ROOT", [
    { path: CURRENT_VERSION, values: [{ name: "UBR", dword: 3000 }] },
    {
      path: [...cbsPath, "Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.3000.1.5"],
      values: [{ name: "CurrentState", dword: 0x70 }],
    },
  ]).hive;

  it("takes each value from the latest layer that sets it", () => {
    const facts = overlayWindowsFacts([hiveData(base).data, undefined, hiveData(patch).data]);
    expect(facts.os).toEqual({
      build: 20348,
      ubr: 3000,
      version: "10.0.20348.3000",
      product: "Windows Server 2022 (Server Core installation)",
      productName: "Windows Server 2022 Datacenter",
      editionId: "ServerDatacenter",
      installationType: "Server Core",
      displayVersion: "21H2",
    });
    expect(facts.iis).toEqual({ version: "10.0" });
    expect(facts.powershell).toEqual([{ version: "5.1.20348.1", source: "Windows PowerShell" }]);
    expect(facts.updates.filter((u) => u.state === "installed").map((u) => u.kb ?? u.rollupBuild)).toEqual([
      "KB4470788",
      "17763.3406",
      "20348.3000",
    ]);
    expect(facts.updates.find((u) => u.rollupBuild === "17763.379")?.state).toBe("superseded");
  });

  it("names the OS by its MSRC product and warns when the image config disagrees", () => {
    const facts = overlayWindowsFacts([hiveData(base).data, hiveData(patch).data]);
    const agree = windowsInventory(facts, "10.0.20348.3000");
    expect(agree.os).toEqual({
      family: "windows",
      version: "10.0.20348.3000",
      name: "Windows Server 2022 (Server Core installation)",
    });
    expect(agree.packages[0]).toEqual({
      kind: "windows-os",
      name: "Windows Server 2022 (Server Core installation)",
      version: "10.0.20348.3000",
      ecosystem: "Windows",
    });
    expect(agree.warnings).toEqual([]);
    expect(windowsInventory(facts, "10.0.20348.2700").warnings.map((w) => w.code)).toEqual([
      "windows-os-version-mismatch",
    ]);
    const configOnly = windowsInventory(overlayWindowsFacts([]), "10.0.26100.4061");
    expect(configOnly.os).toEqual({ family: "windows", version: "10.0.26100.4061" });
    expect(configOnly.warnings.map((w) => w.code)).toEqual(["windows-product-unknown"]);
  });

  it("turns an unreadable hive into a warning, not a crash", () => {
    const out = softwareHiveAnalyzer.analyze({
      path: "Hives/Software_Delta",
      content: Buffer.from("CREG not a hive"),
    });
    expect(out).toMatchObject({
      warnings: [{ code: "windows-hive-unreadable", path: "Hives/Software_Delta" }],
    });
  });
});

describe("Windows facts tables", () => {
  it.each([
    [17763, "Server Core", undefined, "Windows Server 2019 (Server Core installation)"],
    [20348, "Server Core", undefined, "Windows Server 2022 (Server Core installation)"],
    [26100, "Server Core", "24H2", "Windows Server 2025 (Server Core installation)"],
    [26100, "Nano Server", "24H2", "Windows Server 2025 (Nano Server installation)"],
    [26100, "Server", "24H2", "Windows Server 2025"],
    [26100, "Client", "24H2", "Windows 11 Version 24H2 for x64-based Systems"],
    [19045, "Client", "22H2", "Windows 10 Version 22H2 for x64-based Systems"],
    [25398, "Server Core", "23H2", "Windows Server, version 23H2 (Server Core installation)"],
  ])("build %i %s → %s", (build, type, displayVersion, product) => {
    expect(windowsProductName(build, type, displayVersion)).toBe(product);
  });

  it.each([
    [378389, "4.5"],
    [394802, "4.6.2"],
    [461814, "4.7.2"],
    [528372, "4.8"],
    [533325, "4.8.1"],
    [1000, undefined],
  ])(".NET Framework Release %i → %s", (release, version) => {
    expect(netFrameworkVersion(release)).toBe(version);
  });

  it("reads KBs and rollup builds from CBS package identities (DISM /get-packages of Server 2019)", () => {
    expect(parseCbsPackage("Package_for_KB4470788~31bf3856ad364e35~amd64~~17763.164.1.1", 0x70)).toEqual({
      identity: "Package_for_KB4470788~31bf3856ad364e35~amd64~~17763.164.1.1",
      kb: "KB4470788",
      state: "installed",
    });
    expect(parseCbsPackage("Package_for_RollupFix~31bf3856ad364e35~amd64~~17763.3406.1.5").rollupBuild).toBe(
      "17763.3406",
    );
    expect(parseCbsPackage("Package_for_ServicingStack_3232~31bf3856ad364e35~amd64~~17763.3232.1.1")).toEqual(
      {
        identity: "Package_for_ServicingStack_3232~31bf3856ad364e35~amd64~~17763.3232.1.1",
      },
    );
    expect(cbsState(0x50)).toBe("superseded");
  });
});

describe(".NET runtime and PowerShell analyzers", () => {
  it.each([
    [
      "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.3/Microsoft.NETCore.App.deps.json",
      "Microsoft.NETCore.App.Runtime.win-x64",
      "8.0.3",
    ],
    [
      "Files/Program Files/dotnet/shared/Microsoft.AspNetCore.App/8.0.3/Microsoft.AspNetCore.App.deps.json",
      "Microsoft.AspNetCore.App.Runtime.win-x64",
      "8.0.3",
    ],
    [
      "Files/Program Files (x86)/dotnet/shared/Microsoft.WindowsDesktop.App/6.0.27/Microsoft.WindowsDesktop.App.deps.json",
      "Microsoft.WindowsDesktop.App.Runtime.win-x86",
      "6.0.27",
    ],
    [
      "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/9.0.0-rc.2.24473.5/Microsoft.NETCore.App.deps.json",
      "Microsoft.NETCore.App.Runtime.win-x64",
      "9.0.0-rc.2.24473.5",
    ],
  ])("%s → %s %s", async (path, name, version) => {
    expect(dotnetRuntimeAnalyzer.required(path)).toBe(true);
    const out = await dotnetRuntimeAnalyzer.analyze({ path, content: Buffer.from("{}") });
    expect(out.packages).toEqual([
      {
        kind: "dotnet-runtime",
        name,
        version,
        ecosystem: "NuGet",
        arch: name.endsWith("x86") ? "x86" : "x64",
      },
    ]);
  });

  it("ignores other files under dotnet/", () => {
    expect(
      dotnetRuntimeAnalyzer.required(
        "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.3/coreclr.dll",
      ),
    ).toBe(false);
    expect(dotnetRuntimeAnalyzer.required("Files/Program Files/dotnet/sdk/8.0.100/dotnet.deps.json")).toBe(
      false,
    );
  });

  it("reads the PowerShell 7 release from pwsh.deps.json", async () => {
    const path = "Files/Program Files/PowerShell/7/pwsh.deps.json";
    const content = Buffer.from(
      JSON.stringify({
        runtimeTarget: { name: ".NETCoreApp,Version=v8.0/win-x64" },
        libraries: { "pwsh/7.4.1": { type: "project" }, "Microsoft.PowerShell.SDK/7.4.1": {} },
      }),
    );
    expect(powershellAnalyzer.required(path)).toBe(true);
    expect((await powershellAnalyzer.analyze({ path, content })).packages).toEqual([
      { kind: "powershell", name: "PowerShell 7.4", version: "7.4.1", ecosystem: "Windows" },
    ]);
  });
});
