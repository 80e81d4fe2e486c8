import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHECKS } from "../../shared/analysis/audit/index.js";
import type { MisconfigurationMatch } from "../../shared/model/report.js";
import type { RegKey } from "../windows/support/reg-file.js";
import { auditWindowsLayers } from "./support/audit-hives.js";
import { statements, tokenize } from "./support/powershell-tokens.js";
import { corpusPath } from "../support/corpus.js";

const CS = ["ControlSet001"];
const LSA = [...CS, "Control", "Lsa"];
const PROTOCOLS = [...CS, "Control", "SecurityProviders", "SCHANNEL", "Protocols"];
const WINLOGON = ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"];
const PASSWORD = "Tr0ub4dor&3-in-clear";

function system(v: {
  smb1: number;
  noLm: number;
  lmc: number;
  ra: number;
  ras: number;
  ppl: number;
  wdigest: number;
  schannel: number;
}): RegKey[] {
  return [
    { path: ["Select"], values: [{ name: "Current", dword: 1 }] },
    { path: [...CS, "Services", "LanmanServer", "Parameters"], values: [{ name: "SMB1", dword: v.smb1 }] },
    {
      path: LSA,
      values: [
        { name: "NoLMHash", dword: v.noLm },
        { name: "LmCompatibilityLevel", dword: v.lmc },
        { name: "RestrictAnonymous", dword: v.ra },
        { name: "RestrictAnonymousSAM", dword: v.ras },
        { name: "RunAsPPL", dword: v.ppl },
      ],
    },
    {
      path: [...CS, "Control", "SecurityProviders", "WDigest"],
      values: [{ name: "UseLogonCredential", dword: v.wdigest }],
    },
    ...["SSL 3.0", "TLS 1.0", "TLS 1.1"].map((p) => ({
      path: [...PROTOCOLS, p, "Server"],
      values: [{ name: "Enabled", dword: v.schannel }],
    })),
  ];
}

function software(
  v: { autoLogon: string; password?: string; lua: number; unencrypted: number; basic: number; sbl: number },
  extra: RegKey[] = [],
): RegKey[] {
  return [
    {
      path: WINLOGON,
      values: [
        { name: "AutoAdminLogon", string: v.autoLogon },
        { name: "DefaultUserName", string: "Administrator" },
        ...(v.password === undefined ? [] : [{ name: "DefaultPassword", string: v.password }]),
      ],
    },
    {
      path: ["Microsoft", "Windows", "CurrentVersion", "Policies", "System"],
      values: [{ name: "EnableLUA", dword: v.lua }],
    },
    {
      path: ["Policies", "Microsoft", "Windows", "WinRM", "Service"],
      values: [
        { name: "AllowUnencryptedTraffic", dword: v.unencrypted },
        { name: "AllowBasic", dword: v.basic },
      ],
    },
    {
      path: ["Policies", "Microsoft", "Windows", "PowerShell", "ScriptBlockLogging"],
      values: [{ name: "EnableScriptBlockLogging", dword: v.sbl }],
    },
    ...extra,
  ];
}

const BAD_SYSTEM = system({
  smb1: 1,
  noLm: 0,
  lmc: 2,
  ra: 0,
  ras: 0,
  ppl: 0,
  wdigest: 1,
  schannel: 0xffffffff,
});
const GOOD_SYSTEM = system({ smb1: 0, noLm: 1, lmc: 5, ra: 1, ras: 1, ppl: 1, wdigest: 0, schannel: 0 });
const PS2 = {
  path: ["Microsoft", "PowerShell", "1", "PowerShellEngine"],
  values: [{ name: "PowerShellVersion", string: "2.0" }],
};
const BAD_SOFTWARE = software(
  { autoLogon: "1", password: PASSWORD, lua: 0, unencrypted: 1, basic: 1, sbl: 0 },
  [PS2],
);
const GOOD_SOFTWARE = software({ autoLogon: "0", lua: 1, unencrypted: 0, basic: 0, sbl: 1 });

const windowsIds = (list: MisconfigurationMatch[]) => list.filter((m) => m.id.startsWith("PCS-WIN-"));

describe("the Windows audit over hives built with hivexregedit", () => {
  it("finds every weak SYSTEM and SOFTWARE setting, with hive, key and value, in the layer that wrote it", async () => {
    const image = await auditWindowsLayers([{ system: BAD_SYSTEM, software: BAD_SOFTWARE }]);
    const found = windowsIds(image.misconfigurations);
    expect(found.map((m) => m.id).sort()).toEqual(
      Object.keys(CHECKS).filter((id) => /^PCS-WIN-00(0\d|1[0-6])$/.test(id)),
    );
    const layer = image.reports[0]!.digest;
    for (const m of found) expect(m.layer).toBe(layer);
    const byId = new Map(found.map((m) => [m.id, m]));
    expect(byId.get("PCS-WIN-0001")?.evidence).toEqual([
      {
        location: "SYSTEM",
        key: "ControlSet001\\Services\\LanmanServer\\Parameters",
        value: "SMB1",
        found: "1",
      },
    ]);
    expect(byId.get("PCS-WIN-0001")?.remediation).toEqual({
      shell: "powershell",
      script:
        "Set-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters' -Name 'SMB1' -Value 0 -Type DWord",
    });
    expect(byId.get("PCS-WIN-0003")?.evidence[0]?.found).toBe("2");
    expect(byId.get("PCS-WIN-0005")?.evidence[0]?.key).toBe(
      "ControlSet001\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\SSL 3.0\\Server",
    );
    const autoLogon = byId.get("PCS-WIN-0011")!;
    expect(autoLogon.severity).toBe("critical");
    expect(autoLogon.evidence[1]).toEqual({
      location: "SOFTWARE",
      key: "Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
      value: "DefaultPassword",
      found: `present in clear (${PASSWORD.length} characters; not shown)`,
    });
    // the password is in no layer report, fact or finding
    expect(JSON.stringify(image)).not.toContain(PASSWORD);
  }, 120_000);

  it("finds nothing at fix or block tier when each value is set right", async () => {
    const image = await auditWindowsLayers([{ system: GOOD_SYSTEM, software: GOOD_SOFTWARE }]);
    expect(windowsIds(image.misconfigurations)).toEqual([]);
  }, 120_000);

  it("lets a later layer's hive delta fix what the base layer set", async () => {
    const image = await auditWindowsLayers([
      { system: BAD_SYSTEM, software: BAD_SOFTWARE },
      {
        system: GOOD_SYSTEM,
        software: software({ autoLogon: "0", lua: 1, unencrypted: 0, basic: 0, sbl: 1 }),
      },
    ]);
    // a delta cannot delete: the PowerShell 2.0 engine key, and the clear-text password in the base
    // layer's hive, are still in the image
    expect(windowsIds(image.misconfigurations).map((m) => m.id)).toEqual(["PCS-WIN-0011", "PCS-WIN-0015"]);
  }, 120_000);

  it("reads hives where the keys are absent without a finding or a crash (script-block logging, off by default, is reported)", async () => {
    const image = await auditWindowsLayers([
      {
        system: [{ path: ["Select"], values: [{ name: "Current", dword: 1 }] }],
        software: [{ path: ["Classes"] }],
      },
    ]);
    expect(windowsIds(image.misconfigurations).map((m) => [m.id, m.severity])).toEqual([
      ["PCS-WIN-0016", "low"],
    ]);
  }, 120_000);

  it("turns a corrupt hive into a warning, not a crash", async () => {
    const image = await auditWindowsLayers([
      { files: { "Hives/System_Delta": Buffer.from("regf but not really") } },
    ]);
    expect(image.reports[0]!.warnings.map((w) => w.code)).toContain("windows-hive-unreadable");
    expect(windowsIds(image.misconfigurations)).toEqual([]);
  }, 120_000);

  it("writes remediation PowerShell whose quoting closes and whose statements are well formed", async () => {
    const image = await auditWindowsLayers([{ system: BAD_SYSTEM, software: BAD_SOFTWARE }]);
    for (const m of windowsIds(image.misconfigurations)) {
      expect(m.remediation.shell).toBe("powershell");
      for (const s of statements(m.remediation.script)) {
        const [command] = s;
        expect(command?.kind, m.remediation.script).toMatch(/word|punct/);
        // every -Path is one single-quoted literal, so nothing in a key name is expanded
        s.forEach((t, i) => {
          if (t.kind === "word" && t.text === "-Path")
            expect(s[i + 1]?.kind, m.remediation.script).toBe("single");
        });
      }
    }
  }, 120_000);

  it("the tokenizer itself catches broken quoting", () => {
    expect(() => tokenize("Set-ItemProperty -Path 'HKLM:\\X -Name 'a'")).toThrow(/unterminated/);
    expect(() => tokenize("if (x { y }")).toThrow(/unbalanced|unclosed/);
    expect(tokenize("'it''s'")).toEqual([{ kind: "single", text: "it's" }]);
    expect(statements("a 'b;c'; d").map((s) => s.map((t) => t.text))).toEqual([["a", "b;c"], ["d"]]);
  });
});

describe("the SECURITY hive's LSA secrets", () => {
  it("finds the autologon password a real SECURITY hive keeps as an LSA secret, without reading it", async () => {
    // dfwinreg's SECURITY test hive, from a real Windows install, holds Policy\Secrets\DefaultPassword
    const hive = readFileSync(corpusPath("hives/dfwinreg/SECURITY"));
    const image = await auditWindowsLayers([{ files: { "Hives/Security_Delta": hive } }]);
    const found = windowsIds(image.misconfigurations);
    expect(found.map((m) => [m.id, m.severity])).toContainEqual(["PCS-WIN-0024", "critical"]);
    const secret = found.find((m) => m.id === "PCS-WIN-0024")!;
    expect(secret.evidence).toEqual([
      { location: "SECURITY", key: "Policy\\Secrets\\DefaultPassword", found: "present (value not read)" },
    ]);
    // the machine account, DPAPI and cached-logon keys are the system's own: not findings
    expect(found.filter((m) => m.id === "PCS-WIN-0025")).toEqual([]);
  }, 120_000);

  it("finds a service's stored password and writes a fix whose quoting closes", async () => {
    const image = await auditWindowsLayers([
      {
        security: [
          { path: ["Policy", "Secrets", "DPAPI_SYSTEM"] },
          { path: ["Policy", "Secrets", "_SC_App Pool's"] },
        ],
      },
    ]);
    const found = windowsIds(image.misconfigurations).filter((m) => m.id.startsWith("PCS-WIN-002"));
    expect(found.map((m) => [m.id, m.evidence[0]!.key])).toEqual([
      ["PCS-WIN-0025", "Policy\\Secrets\\_SC_App Pool's"],
    ]);
    const [statement] = statements(found[0]!.remediation.script);
    expect(statement!.map((t) => t.text).slice(0, 3)).toEqual(["sc.exe", "config", "App Pool's"]);
  }, 120_000);

  it("has no secret finding for a SECURITY hive without Policy\\Secrets", async () => {
    const image = await auditWindowsLayers([{ security: [{ path: ["Policy", "PolAcDmS"] }] }]);
    expect(windowsIds(image.misconfigurations).map((m) => m.id)).not.toContain("PCS-WIN-0024");
    expect(windowsIds(image.misconfigurations).map((m) => m.id)).not.toContain("PCS-WIN-0025");
  }, 120_000);
});
