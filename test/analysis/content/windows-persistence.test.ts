// Windows autostart entries in hive deltas built by hivex, read by the content engine in the real
// layer walk: planted Run keys, an IFEO hijack, a Winlogon Userinit addition and an odd service
// image are found; Windows' own values and services in System32 or Program Files are not.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildPeTestBinaries } from "../../support/pe-binaries.js";
import { contentOfLayers } from "./support/windows-content.js";
import { buildHiveWithHivex } from "../../windows/support/hivexregedit.js";
import type { RegKey } from "../../windows/support/reg-file.js";

const CV = ["Microsoft", "Windows", "CurrentVersion"];
const NT = ["Microsoft", "Windows NT", "CurrentVersion"];
const SERVICES = ["ControlSet001", "Services"];

const hive = (keys: RegKey[]) => buildHiveWithHivex("ROOT", keys).hive;

describe("Windows persistence in hives", () => {
  it("finds planted autostart entries across layers, and leaves Windows' own alone", async () => {
    const base: [string, Buffer][] = [
      [
        "Hives/Software_Delta",
        hive([
          {
            path: [...NT, "Winlogon"],
            values: [
              { name: "Userinit", string: "C:\\Windows\\system32\\userinit.exe," },
              { name: "Shell", string: "explorer.exe" },
            ],
          },
          {
            path: [...NT, "Image File Execution Options", "notepad.exe"],
            values: [{ name: "UseFilter", dword: 0 }],
          },
        ]),
      ],
      [
        "Hives/System_Delta",
        hive([
          {
            path: [...SERVICES, "Dhcp"],
            values: [
              {
                name: "ImagePath",
                string: "%SystemRoot%\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p",
              },
            ],
          },
          {
            path: [...SERVICES, "disk"],
            values: [{ name: "ImagePath", string: "\\SystemRoot\\System32\\drivers\\disk.sys" }],
          },
          {
            path: [...SERVICES, "AppSvc"],
            values: [{ name: "ImagePath", string: '"C:\\Program Files\\App\\svc.exe" --service' }],
          },
        ]),
      ],
    ];
    const planted: [string, Buffer][] = [
      [
        "Hives/Software_Delta",
        hive([
          {
            path: [...CV, "Run"],
            values: [{ name: "Updater", string: "C:\\Users\\Public\\updater.exe /quiet" }],
          },
          {
            path: [...NT, "Winlogon"],
            values: [
              {
                name: "Userinit",
                string: "C:\\Windows\\system32\\userinit.exe,C:\\ProgramData\\svc\\agent.exe,",
              },
            ],
          },
          {
            path: [...NT, "Image File Execution Options", "sethc.exe"],
            values: [{ name: "Debugger", string: "C:\\Windows\\System32\\cmd.exe" }],
          },
        ]),
      ],
      [
        "Hives/System_Delta",
        hive([
          {
            path: [...SERVICES, "WinUpd"],
            values: [{ name: "ImagePath", string: "C:\\ProgramData\\svc\\backdoor.exe" }],
          },
        ]),
      ],
      [
        "Hives/DefaultUser_Delta",
        hive([
          {
            path: ["Software", ...CV, "RunOnce"],
            values: [{ name: "setup", string: "powershell -enc AAAA" }],
          },
        ]),
      ],
    ];
    const { fact, reports } = await contentOfLayers([base, planted]);
    const top = reports[1]!.digest;
    expect(fact.findings.map((f) => [f.rule, f.path, f.layer === top])).toEqual(
      [
        [
          "persistence/windows-ifeo-debugger",
          "registry:SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe\\Debugger",
          true,
        ],
        [
          "persistence/windows-winlogon",
          "registry:SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\Userinit",
          true,
        ],
        [
          "persistence/windows-run-key",
          "registry:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater",
          true,
        ],
        [
          "persistence/windows-run-key",
          "registry:DEFAULT\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce\\setup",
          true,
        ],
        [
          "persistence/windows-service-image",
          "registry:SYSTEM\\ControlSet001\\Services\\WinUpd\\ImagePath",
          true,
        ],
      ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );
    const winlogon = fact.findings.find((f) => f.rule === "persistence/windows-winlogon")!;
    expect(winlogon.category).toBe("persistence");
    expect(winlogon.evidence[0]).toContain("C:\\\\ProgramData\\\\svc\\\\agent.exe");
  });

  it("finds nothing in hives holding only Windows' own values", async () => {
    const { fact } = await contentOfLayers([
      [
        [
          "Hives/Software_Delta",
          hive([{ path: [...NT, "Winlogon"], values: [{ name: "Shell", string: "explorer.exe" }] }]),
        ],
        [
          "Hives/System_Delta",
          hive([
            {
              path: [...SERVICES, "Dnscache"],
              values: [
                { name: "ImagePath", string: "C:\\Windows\\system32\\svchost.exe -k NetworkService -p" },
              ],
            },
          ]),
        ],
      ],
    ]);
    expect(fact.findings).toEqual([]);
  });

  it("warns about a hive it cannot read, naming it, instead of passing it over", async () => {
    const { reports } = await contentOfLayers([
      [["Hives/Software_Delta", Buffer.from("regf but not really")]],
    ]);
    expect(reports[0]!.warnings).toContainEqual(
      expect.objectContaining({ code: "content-hive-unreadable", path: "Hives/Software_Delta" }),
    );
  });

  it("cross-checks the hive's build and UBR against ntoskrnl.exe's FileVersion", async () => {
    const kernel = await readFile((await buildPeTestBinaries()).ntoskrnl);
    const layersClaiming = (ubr: number): [string, Buffer][][] => [
      [
        ["Files/Windows/System32/ntoskrnl.exe", kernel],
        [
          "Hives/Software_Delta",
          hive([
            {
              path: NT,
              values: [
                { name: "CurrentBuild", string: "20348" },
                { name: "UBR", dword: 2227 },
              ],
            },
          ]),
        ],
      ],
      // a later layer edits only the hive: it claims a patched build, the kernel stays as it was
      [["Hives/Software_Delta", hive([{ path: NT, values: [{ name: "UBR", dword: ubr }] }])]],
    ];
    const honest = await contentOfLayers(layersClaiming(2227));
    expect(honest.fact.findings).toEqual([]);
    const forged = await contentOfLayers(layersClaiming(2340));
    expect(forged.fact.findings.map((f) => [f.rule, f.category, f.path, f.layer])).toEqual([
      [
        "integrity/windows-build",
        "integrity",
        "/Files/Windows/System32/ntoskrnl.exe",
        forged.reports[0]!.digest,
      ],
    ]);
    expect(forged.fact.findings[0]!.summary).toBe(
      "the registry claims Windows build 20348.2340, but /Files/Windows/System32/ntoskrnl.exe is version 10.0.20348.2227: the package database does not match the files",
    );
    expect(forged.fact.findings[0]!.evidence[0]).toContain(`UBR 2340 (layer ${forged.reports[1]!.digest})`);
  }, 120_000);
});
