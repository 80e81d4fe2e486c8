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
