import type { OsInfo } from "../../model/inventory.js";

const major = (version: string) => version.split(".")[0] ?? version;

/** The product suffix SUSE and openSUSE advisories use: PRETTY_NAME without the brand. */
function productName(os: OsInfo, brand: string): string {
  const name = os.name ?? "";
  return name.startsWith(`${brand} `) ? name.slice(brand.length + 1) : name;
}

/**
 * The OSV ecosystem of an rpm distribution, from os-release (ID, VERSION_ID, PRETTY_NAME).
 * Distributions OSV does not publish keep a name of their own, so nothing matches them by accident.
 */
export function rpmEcosystem(os: OsInfo | undefined): string {
  if (!os) return "rpm";
  const v = os.version;
  switch (os.family) {
    case "rhel":
      // Red Hat scopes advisories by CPE product stream, which the rpm DB does not record: BaseOS assumed
      return `Red Hat:enterprise_linux:${major(v)}::baseos`;
    case "rocky":
      return `Rocky Linux:${major(v)}`;
    case "almalinux":
      return `AlmaLinux:${major(v)}`;
    case "mariner":
    case "azurelinux":
      return `Azure Linux:${major(v)}`;
    case "mageia":
      return `Mageia:${major(v)}`;
    case "photon":
      return `Photon OS:${v}`;
    case "openeuler": {
      // "openEuler 22.03 (LTS-SP1)" → 22.03-LTS-SP1
      const lts = /\(([^)]+)\)/.exec(os.name ?? "")?.[1];
      return `openEuler:${v}${lts ? `-${lts}` : ""}`;
    }
    case "sles":
    case "sles_sap":
    case "sle-micro":
    case "sle_hpc":
      return `SUSE:${productName(os, "SUSE")}`;
    case "opensuse":
    case "opensuse-leap":
    case "opensuse-tumbleweed":
    case "opensuse-microos":
      return `openSUSE:${productName(os, "openSUSE")}`;
    default:
      return `${UNPUBLISHED[os.family] ?? os.family}${v ? `:${major(v)}` : ""}`;
  }
}

/** rpm distributions OSV publishes no advisories for (README, "Coverage"): named, never matched. */
const UNPUBLISHED: Record<string, string> = {
  fedora: "Fedora",
  centos: "CentOS",
  amzn: "Amazon Linux",
  ol: "Oracle Linux",
};

/** purl namespace: the distribution's vendor id as purl-spec's rpm examples use it. */
export function rpmNamespace(os: OsInfo | undefined): string {
  if (!os) return "rpm";
  if (os.family === "rhel") return "redhat";
  if (os.family.startsWith("sle") || os.family === "sles_sap") return "suse";
  if (os.family.startsWith("opensuse")) return "opensuse";
  return os.family;
}
