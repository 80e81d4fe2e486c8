import type { MisconfigurationEvidence, MisconfigurationMatch, Severity } from "../../model/report.js";

/** What a check is, independent of any image: its id, title, severity, why, and where that comes from. */
export interface CheckDefinition {
  title: string;
  severity: Severity;
  rationale: string;
  references: string[];
}

const CIS_DEBIAN = "CIS Debian Linux 12 Benchmark v1.1.0";
const CIS_DOCKER = "CIS Docker Benchmark v1.6.0";
const CIS_WINDOWS = "CIS Microsoft Windows Server 2022 Benchmark v3.0.0";
const MS_BASELINE = "Microsoft Security Baseline for Windows Server 2022 (MS Security Guide)";

/** Every configuration-audit check, by its stable id: ids are never reused or renumbered. */
export const CHECKS = {
  "PCS-LNX-0001": {
    title: "Account with an empty password",
    severity: "high",
    rationale:
      "An empty password field in /etc/shadow lets anyone who reaches a login prompt (su, a console, a service using PAM) in as that account without a password.",
    references: [`${CIS_DEBIAN}: Ensure /etc/shadow password fields are not empty`],
  },
  "PCS-LNX-0002": {
    title: "Password hashed with a broken scheme (DES or MD5)",
    severity: "medium",
    rationale:
      "DES crypt keeps 8 characters and MD5 crypt is fast to brute-force; a hash shipped in an image is offline material for anyone who pulls it.",
    references: [`${CIS_DEBIAN}: Ensure strong password hashing algorithm is configured`],
  },
  "PCS-LNX-0003": {
    title: "root has a usable password",
    severity: "medium",
    rationale:
      "A container's root needs no password: a hash in /etc/shadow is shared by every container of the image and can be cracked offline from the image itself.",
    references: [`${CIS_DEBIAN}: Ensure root account access is controlled`, `${CIS_DOCKER}, 4.1`],
  },
  "PCS-LNX-0004": {
    title: "sshd permits root login",
    severity: "high",
    rationale:
      "PermitRootLogin yes lets root log in over SSH with a password, the first account every brute-forcer tries.",
    references: [`${CIS_DEBIAN}: Ensure sshd PermitRootLogin is disabled`],
  },
  "PCS-LNX-0005": {
    title: "sshd permits empty passwords",
    severity: "high",
    rationale: "PermitEmptyPasswords yes lets any account with an empty password log in over SSH.",
    references: [`${CIS_DEBIAN}: Ensure sshd PermitEmptyPasswords is disabled`],
  },
  "PCS-LNX-0006": {
    title: "An account with an empty password can log in over SSH",
    severity: "critical",
    rationale:
      "sshd accepts passwords and empty ones, and an account has an empty password: anyone who reaches port 22 gets a shell.",
    references: [
      `${CIS_DEBIAN}: Ensure sshd PermitEmptyPasswords is disabled`,
      `${CIS_DEBIAN}: Ensure /etc/shadow password fields are not empty`,
    ],
  },
  "PCS-LNX-0007": {
    title: "sudo without a password for every command",
    severity: "high",
    rationale:
      "NOPASSWD: ALL (or Defaults !authenticate) makes any code running as that user root, with no second factor in between.",
    references: [`${CIS_DEBIAN}: Ensure users must provide password for privilege escalation`],
  },
  "PCS-LNX-0008": {
    title: "setuid/setgid file not installed by a package",
    severity: "medium",
    rationale:
      "A setuid or setgid file no package owns was added by hand: nobody patches it, and it runs with its owner's rights for every user.",
    references: [`${CIS_DOCKER}, 4.8: Ensure setuid and setgid permissions are removed`],
  },
  "PCS-IMG-0001": {
    title: "Image runs as root",
    // low, so report by default: most base images run as root, and a tier every image sits in says nothing
    severity: "low",
    rationale:
      "Without a USER, the container's processes run as root (ContainerAdministrator on Windows); a breakout or a writable mount then acts with full rights.",
    references: [`${CIS_DOCKER}, 4.1: Ensure that a user for the container has been created`],
  },
  "PCS-IMG-0002": {
    title: "Secret in the image config",
    severity: "critical",
    rationale:
      "Environment variables, labels and build history are readable by anyone who can pull the image; a key or password there is published.",
    references: [`${CIS_DOCKER}, 4.10: Ensure secrets are not stored in Dockerfiles`],
  },
  "PCS-IMG-0003": {
    title: "No HEALTHCHECK",
    severity: "low",
    rationale: "Without a HEALTHCHECK the runtime cannot tell a hung container from a healthy one.",
    references: [
      `${CIS_DOCKER}, 4.6: Ensure that HEALTHCHECK instructions have been added to container images`,
    ],
  },
  "PCS-WIN-0001": {
    title: "SMBv1 server enabled",
    severity: "high",
    rationale:
      "SMBv1 has no pre-authentication integrity and carried EternalBlue/WannaCry; no supported client needs it.",
    references: [
      `${MS_BASELINE}: Configure SMB v1 server = Disabled`,
      `${CIS_WINDOWS}: Ensure 'Configure SMB v1 server' is set to 'Disabled'`,
    ],
  },
  "PCS-WIN-0002": {
    title: "LAN Manager hashes are stored",
    severity: "high",
    rationale:
      "NoLMHash 0 keeps LM hashes, which split a password into two 7-character DES halves and fall to a rainbow table.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Network security: Do not store LAN Manager hash value on next password change' is set to 'Enabled'`,
    ],
  },
  "PCS-WIN-0003": {
    title: "LM and NTLMv1 authentication accepted",
    severity: "medium",
    rationale:
      "An LmCompatibilityLevel below 5 accepts LM or NTLMv1 responses, which can be relayed and cracked.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Network security: LAN Manager authentication level' is set to 'Send NTLMv2 response only. Refuse LM & NTLM'`,
    ],
  },
  "PCS-WIN-0004": {
    title: "WDigest keeps clear-text credentials in memory",
    severity: "high",
    rationale:
      "UseLogonCredential 1 makes LSASS keep logon passwords reversibly, for any memory dump to read.",
    references: [`${MS_BASELINE}: WDigest Authentication = Disabled`],
  },
  "PCS-WIN-0005": {
    title: "SSL 3.0 enabled server-side",
    severity: "high",
    rationale: "SSL 3.0 is broken (POODLE) and prohibited by RFC 7568.",
    references: [
      "RFC 7568: Deprecating Secure Sockets Layer Version 3.0",
      "Microsoft: TLS/SSL settings (Schannel SSP)",
    ],
  },
  "PCS-WIN-0006": {
    title: "TLS 1.0 enabled server-side",
    severity: "medium",
    rationale:
      "TLS 1.0 is deprecated by RFC 8996; clients that still need it are better served by a fixed client.",
    references: ["RFC 8996: Deprecating TLS 1.0 and TLS 1.1", "Microsoft: TLS/SSL settings (Schannel SSP)"],
  },
  "PCS-WIN-0007": {
    title: "TLS 1.1 enabled server-side",
    severity: "medium",
    rationale: "TLS 1.1 is deprecated by RFC 8996.",
    references: ["RFC 8996: Deprecating TLS 1.0 and TLS 1.1", "Microsoft: TLS/SSL settings (Schannel SSP)"],
  },
  "PCS-WIN-0008": {
    title: "Anonymous enumeration of SAM accounts allowed",
    severity: "medium",
    rationale:
      "RestrictAnonymousSAM 0 lets an anonymous session list local account names, the first step of password guessing.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Network access: Do not allow anonymous enumeration of SAM accounts' is set to 'Enabled'`,
    ],
  },
  "PCS-WIN-0009": {
    title: "Anonymous enumeration of SAM accounts and shares allowed",
    severity: "medium",
    rationale: "RestrictAnonymous 0 lets an anonymous session list accounts and shares.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Network access: Do not allow anonymous enumeration of SAM accounts and shares' is set to 'Enabled'`,
    ],
  },
  "PCS-WIN-0010": {
    title: "LSA protection turned off",
    severity: "medium",
    rationale:
      "RunAsPPL 0 lets any administrator process read LSASS memory and the credentials in it; every container build supports LSA protection.",
    references: [`${MS_BASELINE}: LSA Protection (RunAsPPL) = Enabled`],
  },
  "PCS-WIN-0011": {
    title: "Clear-text logon password in the registry (AutoAdminLogon DefaultPassword)",
    severity: "critical",
    rationale:
      "A Winlogon DefaultPassword, the AutoAdminLogon password, sits in clear in the SOFTWARE hive of every copy of the image, and in the layer that wrote it even after a later layer removes it.",
    references: [
      `${CIS_WINDOWS}: Ensure 'MSS: (AutoAdminLogon) Enable Automatic Logon (not recommended)' is set to 'Disabled'`,
    ],
  },
  "PCS-WIN-0012": {
    title: "User Account Control turned off",
    severity: "medium",
    rationale:
      "EnableLUA 0 runs every administrator process with the full token, with no elevation boundary.",
    references: [
      `${CIS_WINDOWS}: Ensure 'User Account Control: Run all administrators in Admin Approval Mode' is set to 'Enabled'`,
    ],
  },
  "PCS-WIN-0013": {
    title: "WinRM service accepts unencrypted traffic",
    severity: "high",
    rationale: "Unencrypted WinRM sends commands and credentials readable on the network.",
    references: [`${CIS_WINDOWS}: Ensure 'Allow unencrypted traffic' is set to 'Disabled' (WinRM Service)`],
  },
  "PCS-WIN-0014": {
    title: "WinRM service accepts Basic authentication",
    severity: "high",
    rationale: "Basic authentication sends the password with every request, only base64-encoded.",
    references: [`${CIS_WINDOWS}: Ensure 'Allow Basic authentication' is set to 'Disabled' (WinRM Service)`],
  },
  "PCS-WIN-0015": {
    title: "PowerShell 2.0 engine present",
    severity: "medium",
    rationale:
      "The 2.0 engine has no script-block logging and no AMSI: attackers downgrade to it to run unseen.",
    references: [`${MS_BASELINE}: remove the Windows PowerShell 2.0 engine`],
  },
  "PCS-WIN-0016": {
    title: "PowerShell script-block logging off",
    severity: "low",
    rationale:
      "Without script-block logging, the PowerShell a container ran leaves no trace for an investigation.",
    references: [`${CIS_WINDOWS}: Ensure 'Turn on PowerShell Script Block Logging' is set to 'Enabled'`],
  },
  "PCS-WIN-0017": {
    title: "Minimum password length below the baseline",
    severity: "medium",
    rationale: "Short local passwords fall to online guessing and to offline cracking of the SAM.",
    references: [`${CIS_WINDOWS}: Ensure 'Minimum password length' is set to '14 or more character(s)'`],
  },
  "PCS-WIN-0018": {
    title: "Password history below the baseline",
    severity: "medium",
    rationale: "A short history lets a user cycle back to an old, possibly leaked, password.",
    references: [`${CIS_WINDOWS}: Ensure 'Enforce password history' is set to '24 or more password(s)'`],
  },
  "PCS-WIN-0019": {
    title: "Maximum password age above the baseline (or never)",
    severity: "medium",
    rationale: "A password that never expires stays valid for as long as it is known to someone else.",
    references: [`${CIS_WINDOWS}: Ensure 'Maximum password age' is set to '365 or fewer days, but not 0'`],
  },
  "PCS-WIN-0020": {
    title: "Account lockout threshold above the baseline (or none)",
    severity: "medium",
    rationale: "Without a lockout threshold, local accounts can be guessed at without limit.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Account lockout threshold' is set to '5 or fewer invalid logon attempt(s), but not 0'`,
    ],
  },
  "PCS-WIN-0021": {
    title: "Built-in Administrator account enabled",
    severity: "medium",
    rationale: "RID 500 is known to every attacker and is exempt from lockout by default.",
    references: [`${CIS_WINDOWS}: Ensure 'Accounts: Administrator account status' is set to 'Disabled'`],
  },
  "PCS-WIN-0022": {
    title: "Guest account enabled",
    severity: "high",
    rationale: "The Guest account gives anyone a logon without a password of their own.",
    references: [`${CIS_WINDOWS}: Ensure 'Accounts: Guest account status' is set to 'Disabled'`],
  },
  "PCS-WIN-0023": {
    title: "Local account with a blank password",
    severity: "high",
    rationale: "An enabled account whose SAM record holds no NT hash logs on with an empty password.",
    references: [
      `${CIS_WINDOWS}: Ensure 'Accounts: Limit local account use of blank passwords to console logon only' is set to 'Enabled'`,
    ],
  },
  "PCS-WIN-0024": {
    title: "Logon password stored as an LSA secret (DefaultPassword)",
    severity: "critical",
    rationale:
      "An autologon password kept as the LSA secret DefaultPassword is encrypted only with the boot key, and the image ships that key in its SYSTEM hive: anyone with the image can decrypt it offline.",
    references: [
      `${CIS_WINDOWS}: Ensure 'MSS: (AutoAdminLogon) Enable Automatic Logon (not recommended)' is set to 'Disabled'`,
      "Microsoft: LSA secrets are stored in HKLM\\SECURITY\\Policy\\Secrets, protected by the system boot key",
    ],
  },
  "PCS-WIN-0025": {
    title: "Service account password stored in the image (LSA secret _SC_)",
    severity: "high",
    rationale:
      "A service configured to log on with an account and password keeps that password as an LSA secret `_SC_<service>`, recoverable offline with the boot key the image carries; every copy of the image holds the credential.",
    references: [
      `${MS_BASELINE}: run services as virtual or managed service accounts, not with stored passwords`,
    ],
  },
} satisfies Record<string, CheckDefinition>;

export type CheckId = keyof typeof CHECKS;

/** A check's result for one image: the catalogue's words with the evidence and the fix. */
export function misconfiguration(
  id: CheckId,
  evidence: MisconfigurationEvidence[],
  remediation: MisconfigurationMatch["remediation"],
  layer?: string,
): MisconfigurationMatch {
  const check: CheckDefinition = CHECKS[id];
  return {
    id,
    title: check.title,
    severity: check.severity,
    rationale: check.rationale,
    references: check.references,
    evidence,
    ...(layer === undefined || layer === "" ? {} : { layer }),
    remediation,
  };
}

/** A word for a `sh -c` line: left alone when plain, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
