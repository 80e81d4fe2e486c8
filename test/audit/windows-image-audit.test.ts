import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryImage } from "../../shared/analysis/inventory-image.js";
import { InventorySchema } from "../../shared/model/report.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { renderSarif } from "../../shared/report/sarif.js";
import { renderTable } from "../../shared/report/table.js";
import { makeReport } from "../../shared/stages/make-report.js";
import type { RegKey } from "../windows/support/reg-file.js";
import {
  currentVersionKeys,
  initLayout,
  type WindowsLayerSpec,
  writeWindowsImage,
} from "../windows/support/windows-image.js";
import { domainF, userF, userV } from "./support/sam-records.js";

const PASSWORD = "Winter2026!autologon";
const LSA = ["ControlSet001", "Control", "Lsa"];
const ACCOUNT = ["SAM", "Domains", "Account"];
const bin = (name: string, bytes: Buffer) => ({ name, type: 3, bytes });
const samUser = (rid: number, acb: number, name: string): RegKey => ({
  path: [...ACCOUNT, "Users", rid.toString(16).toUpperCase().padStart(8, "0")],
  values: [bin("F", userF(rid, acb)), bin("V", userV(name, "aes"))],
});

/** The hive deltas of a Server Core base layer, hardened: what a well-kept base looks like. */
function serverCoreBase(): WindowsLayerSpec {
  return {
    files: { "Windows/System32/ntdll.dll": "not really" },
    software: [
      ...currentVersionKeys({
        build: 26100,
        ubr: 4061,
        installationType: "Server Core",
        productName: "Windows Server 2025 Datacenter",
      }),
      {
        path: ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"],
        values: [{ name: "AutoAdminLogon", string: "0" }],
      },
      {
        path: ["Microsoft", "Windows", "CurrentVersion", "Policies", "System"],
        values: [{ name: "EnableLUA", dword: 1 }],
      },
      {
        path: ["Policies", "Microsoft", "Windows", "PowerShell", "ScriptBlockLogging"],
        values: [{ name: "EnableScriptBlockLogging", dword: 1 }],
      },
    ],
    system: [
      { path: ["Select"], values: [{ name: "Current", dword: 1 }] },
      {
        path: ["ControlSet001", "Services", "LanmanServer", "Parameters"],
        values: [{ name: "SMB1", dword: 0 }],
      },
      {
        path: LSA,
        values: [
          { name: "NoLMHash", dword: 1 },
          { name: "LmCompatibilityLevel", dword: 5 },
          { name: "RestrictAnonymousSAM", dword: 1 },
        ],
      },
    ],
    sam: [
      {
        path: ACCOUNT,
        values: [bin("F", domainF({ maxAgeDays: 365, minLength: 14, history: 24, lockout: 5 }))],
      },
      samUser(500, 0x0211, "Administrator"),
      samUser(501, 0x0215, "Guest"),
    ],
    security: [{ path: ["Policy", "PolAcDmS"] }],
    defaultUser: [
      { path: ["Control Panel", "International"], values: [{ name: "Locale", string: "00000409" }] },
    ],
  };
}

/** An app layer that undoes the hardening the way careless Dockerfiles do. */
const careless: WindowsLayerSpec = {
  files: { "app/app.exe": "MZ" },
  software: [
    {
      path: ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"],
      values: [
        { name: "AutoAdminLogon", string: "1" },
        { name: "DefaultUserName", string: "Administrator" },
        { name: "DefaultPassword", string: PASSWORD },
      ],
    },
  ],
  system: [{ path: LSA, values: [{ name: "LmCompatibilityLevel", dword: 1 }] }],
  sam: [samUser(501, 0x0214, "Guest")],
};

const GOOD_CONFIG = {
  User: "ContainerUser",
  Healthcheck: { Test: ["CMD", "powershell", "-Command", "exit 0"] },
};

let work: string;
let layout: string;
let store: FsBlobStore;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "portcullis-win-audit-"));
  layout = path.join(work, "layout");
  store = new FsBlobStore(path.join(work, "cache"));
  await initLayout(layout);
  await writeWindowsImage(layout, "hardened", {
    osVersion: "10.0.26100.4061",
    layers: [serverCoreBase()],
    runConfig: GOOD_CONFIG,
  });
  await writeWindowsImage(layout, "careless", {
    osVersion: "10.0.26100.4061",
    layers: [serverCoreBase(), careless],
    runConfig: GOOD_CONFIG,
  });
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

async function inventoryOf(tag: string) {
  const source = await openImageSource(`oci:${layout}:${tag}`);
  const [image] = await source.resolve(undefined);
  return InventorySchema.parse(await inventoryImage(source, image!, { store }));
}

describe("the configuration audit of a Windows Server Core image", () => {
  it("finds nothing in a hardened image with all five hive deltas", async () => {
    const inv = await inventoryOf("hardened");
    expect(inv.image.os?.name).toContain("Windows Server 2025");
    // the inventory keeps the measured account policy; the policy's baseline judges it
    expect(inv.misconfigurations?.filter((m) => m.measured === undefined)).toEqual([]);
    expect(inv.misconfigurations?.map((m) => m.measured)).toEqual([
      { setting: "minPasswordLength", value: 14 },
      { setting: "passwordHistory", value: 24 },
      { setting: "maxPasswordAgeDays", value: 365 },
      { setting: "lockoutThreshold", value: 5 },
    ]);
    const { report } = makeReport(inv, [], undefined, { policy: DEFAULT_POLICY });
    expect(report.misconfigurations).toEqual([]);
    expect(report.verdict?.decision).toBe("pass");
  }, 120_000);

  it("blocks an app layer that turns on autologon, weakens NTLM and enables Guest, and never prints the password", async () => {
    const inv = await inventoryOf("careless");
    const { report, decision } = makeReport(inv, [], undefined, { policy: DEFAULT_POLICY });
    expect(report.misconfigurations?.map((m) => [m.id, m.tier])).toEqual([
      ["PCS-WIN-0011", "block"],
      ["PCS-WIN-0022", "fix"],
      ["PCS-WIN-0003", "fix"],
    ]);
    const appLayer = inv.layers[1];
    for (const m of report.misconfigurations ?? []) expect(m.layer).toBe(appLayer);
    expect(report.verdict?.decision).toBe("block");
    const outputs = [
      JSON.stringify(inv),
      JSON.stringify(report),
      renderTable(report, { actions: decision.actions, color: false }),
      JSON.stringify(renderSarif([report])),
    ];
    expect(outputs[2]).toContain(`present in clear (${PASSWORD.length} characters; not shown)`);
    for (const text of outputs) expect(text).not.toContain(PASSWORD);
  }, 120_000);
});
