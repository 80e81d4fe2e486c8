import type { OsInfo } from "../../model/inventory.js";

/**
 * How OSV names one distribution's packages: the os-release `ID`s it covers and the ecosystem
 * string for a release (the OSV schema's ecosystem list, `osv/schema/ecosystems.json`).
 */
export interface Distribution {
  /** os-release IDs, lower case */
  ids: readonly string[];
  /** the package format its database holds: which analyzer can read it */
  format: "dpkg" | "apk" | "rpm";
  /** the OSV ecosystem for this release, or undefined when the release cannot be named */
  ecosystem(os: OsInfo, packageVersion?: string): string | undefined;
}

const major = (version: string) => /^(\d+)/.exec(version)?.[1];

/** Ubuntu LTS releases are the April releases of even years (6.06 aside): 20.04, 22.04, 24.04 … */
export function isUbuntuLts(os: OsInfo): boolean {
  if (/\bLTS\b/.test(os.name ?? "")) return true;
  const m = /^(\d+)\.04(\.\d+)?$/.exec(os.version);
  return m !== null && Number(m[1]) % 2 === 0;
}

/** `Ubuntu:22.04:LTS`, `Ubuntu:24.10`; a package built for Ubuntu Pro (ESM, `+esm` in its version) `Ubuntu:Pro:18.04:LTS`. */
function ubuntu(os: OsInfo, packageVersion?: string): string | undefined {
  const release = /^(\d+\.\d+)/.exec(os.version)?.[1];
  if (release === undefined) return undefined;
  const lts = isUbuntuLts(os) ? ":LTS" : "";
  const pro = packageVersion !== undefined && /\+esm\d*/.test(packageVersion) ? "Pro:" : "";
  return `Ubuntu:${pro}${release}${lts}`;
}

/** `Debian:12`; testing/sid (no numeric version) by the codename distro-info-data gives it. */
function debian(os: OsInfo): string | undefined {
  const m = major(os.version);
  if (m !== undefined) return `Debian:${m}`;
  return os.version.includes("sid") || os.codename === "sid" ? "Debian:sid" : undefined;
}

function alpine(os: OsInfo): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(os.version);
  return m ? `Alpine:v${m[1]}.${m[2]}` : undefined;
}

const byMajor =
  (name: string) =>
  (os: OsInfo): string | undefined => {
    const m = major(os.version);
    return m === undefined ? undefined : `${name}:${m}`;
  };

/**
 * The distributions OSV publishes whose releases os-release names unambiguously. Red Hat (streams
 * named by CPE), SUSE and openSUSE (by marketing name and product) need the package database's
 * repository data, and Amazon Linux, Fedora, CentOS are not published at all: their images are
 * reported as not scanned (scan-gaps/gap-warnings.ts), never passed in silence.
 */
export const DISTRIBUTIONS: readonly Distribution[] = [
  { ids: ["debian"], format: "dpkg", ecosystem: debian },
  { ids: ["ubuntu"], format: "dpkg", ecosystem: ubuntu },
  { ids: ["alpine"], format: "apk", ecosystem: alpine },
  { ids: ["wolfi"], format: "apk", ecosystem: () => "Wolfi" },
  { ids: ["chainguard"], format: "apk", ecosystem: () => "Chainguard" },
  { ids: ["rocky"], format: "rpm", ecosystem: byMajor("Rocky Linux") },
  { ids: ["almalinux"], format: "rpm", ecosystem: byMajor("AlmaLinux") },
  { ids: ["azurelinux"], format: "rpm", ecosystem: byMajor("Azure Linux") },
  { ids: ["mageia"], format: "rpm", ecosystem: byMajor("Mageia") },
  {
    ids: ["photon"],
    format: "rpm",
    ecosystem: (os) =>
      /^\d+\.\d+/.test(os.version) ? `Photon OS:${/^\d+\.\d+/.exec(os.version)![0]}` : undefined,
  },
];

export function distributionOf(os: OsInfo | undefined): Distribution | undefined {
  const id = os?.family.toLowerCase();
  return id === undefined ? undefined : DISTRIBUTIONS.find((d) => d.ids.includes(id));
}

/** The OSV ecosystem of a distribution package on `os`, or undefined when OSV has no name for it. */
export function distributionEcosystem(os: OsInfo | undefined, packageVersion?: string): string | undefined {
  return os === undefined ? undefined : distributionOf(os)?.ecosystem(os, packageVersion);
}
