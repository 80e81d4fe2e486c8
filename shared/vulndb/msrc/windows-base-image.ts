/** LTSC tags of the Windows base images on mcr.microsoft.com, by server release in the MSRC product name. */
const LTSC = new Map([
  ["2016", "ltsc2016"],
  ["2019", "ltsc2019"],
  ["2022", "ltsc2022"],
  ["2025", "ltsc2025"],
]);

/**
 * The base image a Windows Server product ships as, for remediation text: Server Core → servercore,
 * Nano Server → nanoserver, the full server → server (2019: the `windows` image). Clients have none.
 */
export function windowsBaseImage(product: string): string | undefined {
  const m = /^Windows Server (\d{4})(?: \((Server Core|Nano Server) installation\))?$/.exec(product);
  const tag = m ? LTSC.get(m[1]!) : undefined;
  if (!m || tag === undefined) return undefined;
  if (m[2] === "Server Core") return `mcr.microsoft.com/windows/servercore:${tag}`;
  if (m[2] === "Nano Server") return `mcr.microsoft.com/windows/nanoserver:${tag}`;
  if (m[1] === "2016") return undefined;
  return m[1] === "2019" ? `mcr.microsoft.com/windows:${tag}` : `mcr.microsoft.com/windows/server:${tag}`;
}
