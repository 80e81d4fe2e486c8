import type { Hive } from "../../windows/regf/index.js";
import { captureSnapshot, type RegistrySnapshot } from "../../windows/registry-snapshot.js";

/** The SYSTEM keys the audit reads, below each control set (an offline hive has no CurrentControlSet). */
const CONTROL_SET_KEYS: readonly string[][] = [
  ["Services", "LanmanServer", "Parameters"],
  ["Control", "Lsa"],
  ["Control", "SecurityProviders", "WDigest"],
  ...["SSL 3.0", "TLS 1.0", "TLS 1.1"].map((p) => [
    "Control",
    "SecurityProviders",
    "SCHANNEL",
    "Protocols",
    p,
    "Server",
  ]),
];

const SYSTEM_ONLY: Record<string, string[]> = {
  PARAMETERS: ["SMB1"],
  LSA: ["NoLMHash", "LmCompatibilityLevel", "RestrictAnonymous", "RestrictAnonymousSAM", "RunAsPPL"],
  WDIGEST: ["UseLogonCredential"],
  SERVER: ["Enabled"],
};

export const WINLOGON = ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"];
/** Stands in for DefaultPassword in a snapshot: its length, never its text. */
export const DEFAULT_PASSWORD_LENGTH = "DefaultPassword#length";

const SOFTWARE_CAPTURES = [
  { path: WINLOGON, only: ["AutoAdminLogon", "DefaultUserName"] },
  { path: ["Microsoft", "Windows", "CurrentVersion", "Policies", "System"], only: ["EnableLUA"] },
  {
    path: ["Policies", "Microsoft", "Windows", "WinRM", "Service"],
    only: ["AllowUnencryptedTraffic", "AllowBasic"],
  },
  {
    path: ["Microsoft", "Windows", "CurrentVersion", "WSMAN", "Service"],
    only: ["allow_unencrypted", "auth_basic"],
  },
  { path: ["Microsoft", "PowerShell", "1", "PowerShellEngine"], only: ["PowerShellVersion"] },
  {
    path: ["Policies", "Microsoft", "Windows", "PowerShell", "ScriptBlockLogging"],
    only: ["EnableScriptBlockLogging"],
  },
];

/** The SYSTEM settings the audit checks, from every control set the hive (delta) has, and `Select`. */
export function systemSettings(hive: Hive): RegistrySnapshot {
  const sets = hive
    .root()
    .subkeys()
    .filter((k) => /^ControlSet\d{3}$/i.test(k.name))
    .map((k) => k.name);
  const captures = [
    { path: ["Select"], only: ["Current"] },
    ...sets.flatMap((set) =>
      CONTROL_SET_KEYS.map((path) => ({
        path: [set, ...path],
        only: SYSTEM_ONLY[path.at(-1)!.toUpperCase()]!,
      })),
    ),
  ];
  return captureSnapshot(hive, captures);
}

/** The SOFTWARE settings the audit checks; DefaultPassword is kept as its length only. */
export function softwareSettings(hive: Hive): RegistrySnapshot {
  const snapshot = captureSnapshot(hive, SOFTWARE_CAPTURES);
  const password = hive.subkey(WINLOGON)?.value("DefaultPassword");
  if (password !== undefined) {
    const key = WINLOGON.join("\\");
    snapshot[key] = { ...snapshot[key], [DEFAULT_PASSWORD_LENGTH]: password.asString()?.length ?? 0 };
  }
  return snapshot;
}
