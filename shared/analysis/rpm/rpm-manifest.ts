import type { RpmPackage } from "./rpm-header.js";

/**
 * CBL-Mariner / Azure Linux distroless images carry no rpm database, only
 * `var/lib/rpmmanifest/container-manifest-2`: rpm -qa output, one package a line, tab-separated
 * NAME, VERSION-RELEASE, INSTALLTIME, BUILDTIME, VENDOR, EPOCH, SIZE, ARCH, EPOCHNUM, SOURCERPM.
 */
export function readRpmManifest(text: string): { packages: RpmPackage[]; problems: string[] } {
  const packages: RpmPackage[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const f = line.split("\t");
    const [name, vr, , , vendor, epoch, , arch, , sourceRpm] = f;
    const dash = vr?.lastIndexOf("-") ?? -1;
    if (f.length < 10 || !name || dash <= 0) {
      problems.push(`line ${i + 1}: not a manifest line`);
      continue;
    }
    const e = epoch && /^\d+$/.test(epoch) ? Number(epoch) : undefined;
    packages.push({
      name,
      version: vr!.slice(0, dash),
      release: vr!.slice(dash + 1),
      ...(e !== undefined ? { epoch: e } : {}),
      ...(arch && arch !== "(none)" ? { arch } : {}),
      ...(sourceRpm && sourceRpm !== "(none)" ? { sourceRpm } : {}),
      ...(vendor && vendor !== "(none)" ? { vendor } : {}),
    });
  }
  return { packages, problems };
}
