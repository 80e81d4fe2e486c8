import type { MisconfigurationEvidence, MisconfigurationMatch } from "../../../model/report.js";
import { type CheckId, misconfiguration } from "../check-catalog.js";
import { DEFAULT_PASSWORD_LENGTH, WINLOGON } from "./hive-settings.js";
import { psQuote } from "./powershell-literal.js";
import { auditSam } from "./sam/sam-audit.js";
import type { AuditedHive, AuditedValue, WindowsAuditFact } from "./windows-audit-fact.js";

interface Found {
  hive: AuditedHive;
  /** the key as the image stores it (offline: ControlSet001, not CurrentControlSet) */
  path: string[];
  value: AuditedValue;
}

const SCHANNEL: [CheckId, string][] = [
  ["PCS-WIN-0005", "SSL 3.0"],
  ["PCS-WIN-0006", "TLS 1.0"],
  ["PCS-WIN-0007", "TLS 1.1"],
];

/**
 * The Windows checks over the overlaid SYSTEM and SOFTWARE settings (PCS-WIN-0001…0016). A value
 * that is absent is never a finding (the image keeps Windows' default), except script-block logging,
 * which is off unless a policy turns it on.
 */
export function auditWindows(fact: WindowsAuditFact | undefined): MisconfigurationMatch[] {
  if (fact === undefined) return [];
  const out: MisconfigurationMatch[] = [...auditSam(fact.sam), ...auditSecrets(fact.secrets)];
  const get = (hive: AuditedHive, path: string[], name: string): Found | undefined => {
    const value = fact[hive]?.[path.join("\\").toUpperCase()]?.values[name.toUpperCase()];
    return value === undefined ? undefined : { hive, path, value };
  };
  const add = (id: CheckId, found: Found, script: string, shown?: string) =>
    out.push(
      misconfiguration(id, [evidence(found, shown)], { shell: "powershell", script }, found.value.layer),
    );

  if (fact.SYSTEM !== undefined) {
    const set = controlSet(fact);
    const sys = (...path: string[]) => [set, ...path];
    const live = (...path: string[]) => ["SYSTEM", "CurrentControlSet", ...path];
    const smb1 = get("SYSTEM", sys("Services", "LanmanServer", "Parameters"), "SMB1");
    if (smb1 && num(smb1) !== 0)
      add("PCS-WIN-0001", smb1, setDword(live("Services", "LanmanServer", "Parameters"), "SMB1", 0));
    const lsa = (name: string) => get("SYSTEM", sys("Control", "Lsa"), name);
    const lsaFix = (name: string, v: number) => setDword(live("Control", "Lsa"), name, v);
    const noLm = lsa("NoLMHash");
    if (noLm && num(noLm) === 0) add("PCS-WIN-0002", noLm, lsaFix("NoLMHash", 1));
    const level = lsa("LmCompatibilityLevel");
    if (level && num(level) !== undefined && num(level)! < 5)
      add("PCS-WIN-0003", level, lsaFix("LmCompatibilityLevel", 5));
    const sam = lsa("RestrictAnonymousSAM");
    if (sam && num(sam) === 0) add("PCS-WIN-0008", sam, lsaFix("RestrictAnonymousSAM", 1));
    const anon = lsa("RestrictAnonymous");
    if (anon && num(anon) === 0) add("PCS-WIN-0009", anon, lsaFix("RestrictAnonymous", 1));
    const ppl = lsa("RunAsPPL");
    if (ppl && num(ppl) === 0) add("PCS-WIN-0010", ppl, lsaFix("RunAsPPL", 1));
    const wdigest = get("SYSTEM", sys("Control", "SecurityProviders", "WDigest"), "UseLogonCredential");
    if (wdigest && num(wdigest) === 1)
      add(
        "PCS-WIN-0004",
        wdigest,
        setDword(live("Control", "SecurityProviders", "WDigest"), "UseLogonCredential", 0),
      );
    for (const [id, protocol] of SCHANNEL) {
      const key = ["Control", "SecurityProviders", "SCHANNEL", "Protocols", protocol, "Server"];
      const enabled = get("SYSTEM", sys(...key), "Enabled");
      if (enabled && num(enabled) !== undefined && num(enabled) !== 0)
        add(id, enabled, setDword(live(...key), "Enabled", 0));
    }
  }

  if (fact.SOFTWARE !== undefined) {
    const sw = (...path: string[]) => ["SOFTWARE", ...path];
    const autoLogon = get("SOFTWARE", WINLOGON, "AutoAdminLogon");
    const password = get("SOFTWARE", WINLOGON, DEFAULT_PASSWORD_LENGTH);
    // the password is in the hive whatever AutoAdminLogon says now, and in its layer even if a later one drops it
    if (password && (num(password) ?? 0) > 0) {
      const key = regPath(sw(...WINLOGON));
      out.push(
        misconfiguration(
          "PCS-WIN-0011",
          [
            ...(autoLogon ? [evidence(autoLogon)] : []),
            {
              location: "SOFTWARE",
              key: WINLOGON.join("\\"),
              value: "DefaultPassword",
              found: `present in clear (${characters(num(password) ?? 0)}; not shown)`,
            },
          ],
          {
            shell: "powershell",
            script: `Set-ItemProperty -Path ${key} -Name 'AutoAdminLogon' -Value '0'; Remove-ItemProperty -Path ${key} -Name 'DefaultPassword' # then rotate that password: the layer that stored it keeps it`,
          },
          password.value.layer,
        ),
      );
    }
    const lua = get(
      "SOFTWARE",
      ["Microsoft", "Windows", "CurrentVersion", "Policies", "System"],
      "EnableLUA",
    );
    if (lua && num(lua) === 0)
      add(
        "PCS-WIN-0012",
        lua,
        setDword(sw("Microsoft", "Windows", "CurrentVersion", "Policies", "System"), "EnableLUA", 1),
      );
    const winrmPolicy = ["Policies", "Microsoft", "Windows", "WinRM", "Service"];
    const wsman = ["Microsoft", "Windows", "CurrentVersion", "WSMAN", "Service"];
    const winrm = (id: CheckId, policyName: string, wsmanName: string) => {
      const policy = get("SOFTWARE", winrmPolicy, policyName);
      const config = get("SOFTWARE", wsman, wsmanName);
      const on = [policy, config].find((f) => f !== undefined && num(f) === 1);
      if (on === undefined) return;
      add(
        id,
        on,
        on === policy ? setDword(sw(...winrmPolicy), policyName, 0) : setDword(sw(...wsman), wsmanName, 0),
      );
    };
    winrm("PCS-WIN-0013", "AllowUnencryptedTraffic", "allow_unencrypted");
    winrm("PCS-WIN-0014", "AllowBasic", "auth_basic");
    const v2 = get("SOFTWARE", ["Microsoft", "PowerShell", "1", "PowerShellEngine"], "PowerShellVersion");
    if (v2 && str(v2)?.startsWith("2."))
      add(
        "PCS-WIN-0015",
        v2,
        "Disable-WindowsOptionalFeature -Online -FeatureName 'MicrosoftWindowsPowerShellV2Root' -NoRestart",
      );
    const logging = ["Policies", "Microsoft", "Windows", "PowerShell", "ScriptBlockLogging"];
    const sbl = get("SOFTWARE", logging, "EnableScriptBlockLogging");
    if (sbl === undefined || num(sbl) !== 1) {
      const key = regPath(sw(...logging));
      const script = `if (-not (Test-Path ${key})) { New-Item -Path ${key} -Force | Out-Null }; Set-ItemProperty -Path ${key} -Name 'EnableScriptBlockLogging' -Value 1 -Type DWord`;
      const found: MisconfigurationEvidence = sbl
        ? evidence(sbl)
        : {
            location: "SOFTWARE",
            key: logging.join("\\"),
            value: "EnableScriptBlockLogging",
            found: "not set (off)",
          };
      out.push(misconfiguration("PCS-WIN-0016", [found], { shell: "powershell", script }, sbl?.value.layer));
    }
  }
  return out;
}

/**
 * The SECURITY hive's LSA secrets that hold logon credentials (PCS-WIN-0024, 0025). Only names are
 * read; the fix stops storing the credential, and the password must be rotated: the layer keeps it.
 */
function auditSecrets(secrets: WindowsAuditFact["secrets"]): MisconfigurationMatch[] {
  const out: MisconfigurationMatch[] = [];
  for (const { name, layer } of secrets ?? []) {
    const found = {
      location: "SECURITY",
      key: `Policy\\Secrets\\${name}`,
      found: "present (value not read)",
    };
    if (name.toUpperCase() === "DEFAULTPASSWORD")
      out.push(
        misconfiguration(
          "PCS-WIN-0024",
          [found],
          {
            shell: "powershell",
            script: `Set-ItemProperty -Path ${regPath(["SOFTWARE", ...WINLOGON])} -Name 'AutoAdminLogon' -Value '0' # and drop the step that stored the autologon password, then rotate it: the layer that stored it keeps it`,
          },
          layer,
        ),
      );
    else if (/^_SC_./i.test(name)) {
      const service = name.slice(4);
      out.push(
        misconfiguration(
          "PCS-WIN-0025",
          [found],
          {
            shell: "powershell",
            script: `sc.exe config ${psQuote(service)} obj= 'NT AUTHORITY\\LocalService' password= '' # or a group-managed service account; then rotate the old password`,
          },
          layer,
        ),
      );
    }
  }
  return out;
}

/** `Select\Current` names the control set Windows boots with; ControlSet001 when it says nothing. */
function controlSet(fact: WindowsAuditFact): string {
  const current = fact.SYSTEM?.SELECT?.values.CURRENT?.value;
  const n = typeof current === "number" && current > 0 && current < 1000 ? current : 1;
  return `ControlSet${String(n).padStart(3, "0")}`;
}

const characters = (n: number): string => `${n} character${n === 1 ? "" : "s"}`;
const str = (f: Found): string | undefined => (typeof f.value.value === "string" ? f.value.value : undefined);
const num = (f: Found): number | undefined => (typeof f.value.value === "number" ? f.value.value : undefined);

function evidence(f: Found, shown?: string): MisconfigurationEvidence {
  const v = f.value.value;
  return {
    location: f.hive,
    key: f.path.join("\\"),
    value: f.value.name,
    found: shown ?? (Array.isArray(v) ? v.join(", ") : String(v)),
  };
}

/** `HKLM:\SYSTEM\…` as a PowerShell literal. */
const regPath = (path: string[]): string => psQuote(`HKLM:\\${path.join("\\")}`);

const setDword = (path: string[], name: string, value: number): string =>
  `Set-ItemProperty -Path ${regPath(path)} -Name ${psQuote(name)} -Value ${value} -Type DWord`;
