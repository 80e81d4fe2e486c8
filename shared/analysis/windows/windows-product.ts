/** LTSC server releases by OS build (container base images: servercore / nanoserver / server). */
const SERVER_BY_BUILD = new Map<number, string>([
  [14393, "Windows Server 2016"],
  [17763, "Windows Server 2019"],
  [20348, "Windows Server 2022"],
  [26100, "Windows Server 2025"],
]);

/** Windows 10 / 11 client releases by build, as MSRC names their versions. */
const CLIENT_BY_BUILD = new Map<number, string>([
  [17763, "Windows 10 Version 1809"],
  [19044, "Windows 10 Version 21H2"],
  [19045, "Windows 10 Version 22H2"],
  [22000, "Windows 11 version 21H2"],
  [22621, "Windows 11 Version 22H2"],
  [22631, "Windows 11 Version 23H2"],
  [26100, "Windows 11 Version 24H2"],
  [26200, "Windows 11 Version 25H2"],
]);

export type InstallationType = "Server Core" | "Nano Server" | "Server" | "Client" | string;

/**
 * The MSRC product name for an OS build and installation type — the package name advisories are
 * keyed by. Server Core and Nano Server of the same build are different products; MSRC publishes
 * no Nano Server product, so such an image names its own and matches nothing by accident.
 */
export function windowsProductName(
  build: number,
  installationType: InstallationType | undefined,
  displayVersion?: string,
): string {
  if (installationType === "Client") {
    const client = CLIENT_BY_BUILD.get(build) ?? clientFallback(build, displayVersion);
    // container images are x64; MSRC splits client products by architecture
    return `${client} for x64-based Systems`;
  }
  const server = SERVER_BY_BUILD.get(build) ?? `Windows Server, version ${displayVersion ?? build}`;
  if (installationType === "Nano Server") return `${server} (Nano Server installation)`;
  if (installationType === "Server Core") return `${server} (Server Core installation)`;
  return server;
}

function clientFallback(build: number, displayVersion: string | undefined): string {
  return `${build >= 22000 ? "Windows 11" : "Windows 10"} Version ${displayVersion ?? build}`;
}
