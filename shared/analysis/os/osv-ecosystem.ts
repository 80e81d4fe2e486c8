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

/** The product SUSE and openSUSE advisories name: PRETTY_NAME without the brand ("Leap 15.5"). */
const suseProduct =
  (brand: string) =>
  (os: OsInfo): string | undefined => {
    const name = os.name ?? "";
    const product = name.startsWith(`${brand} `) ? name.slice(brand.length + 1) : "";
    return product === "" ? undefined : `${brand}:${product}`;
  };

/** "openEuler 22.03 (LTS-SP1)" → `openEuler:22.03-LTS-SP1`. */
function openEuler(os: OsInfo): string | undefined {
  if (os.version === "") return undefined;
  const lts = /\(([^)]+)\)/.exec(os.name ?? "")?.[1];
  return `openEuler:${os.version}${lts ? `-${lts}` : ""}`;
}

/**
 * The distributions OSV publishes, by os-release. Red Hat scopes advisories by CPE product stream,
 * which the rpm database does not record: BaseOS is assumed. Amazon Linux, Fedora, CentOS and
 * Oracle Linux are not published at all (UNPUBLISHED below): their images are reported as not
 * scanned (scan-gaps/gap-warnings.ts), never passed in silence.
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
  {
    ids: ["rhel"],
    format: "rpm",
    ecosystem: (os) => byMajor("Red Hat:enterprise_linux")(os)?.concat("::baseos"),
  },
  // CBL-Mariner 2.0 is Azure Linux 2 in OSV
  { ids: ["mariner"], format: "rpm", ecosystem: byMajor("Azure Linux") },
  { ids: ["openeuler"], format: "rpm", ecosystem: openEuler },
  { ids: ["sles", "sles_sap", "sle-micro", "sle_hpc"], format: "rpm", ecosystem: suseProduct("SUSE") },
  {
    ids: ["opensuse", "opensuse-leap", "opensuse-tumbleweed", "opensuse-microos"],
    format: "rpm",
    ecosystem: suseProduct("openSUSE"),
  },
];

/** rpm distributions OSV publishes no advisories for (README, "Coverage"): named, never matched. */
const UNPUBLISHED: Readonly<Record<string, string>> = {
  fedora: "Fedora",
  centos: "CentOS",
  amzn: "Amazon Linux",
  ol: "Oracle Linux",
};

export function distributionOf(os: OsInfo | undefined): Distribution | undefined {
  const id = os?.family.toLowerCase();
  return id === undefined ? undefined : DISTRIBUTIONS.find((d) => d.ids.includes(id));
}

/** The OSV ecosystem of a distribution package on `os`, or undefined when OSV has no name for it. */
export function distributionEcosystem(os: OsInfo | undefined, packageVersion?: string): string | undefined {
  return os === undefined ? undefined : distributionOf(os)?.ecosystem(os, packageVersion);
}

/**
 * The ecosystem an inventory names a package of `os` with: OSV's name when OSV publishes the
 * distribution, else a name of its own (`Amazon Linux:2023`) that no advisory matches by accident.
 */
export function inventoryEcosystem(
  os: OsInfo | undefined,
  fallback: string,
  packageVersion?: string,
): string {
  if (os === undefined) return fallback;
  const published = distributionEcosystem(os, packageVersion);
  if (published !== undefined) return published;
  const m = major(os.version);
  return `${UNPUBLISHED[os.family] ?? os.family}${m === undefined ? "" : `:${m}`}`;
}
