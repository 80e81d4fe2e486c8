import type { OsInfo } from "../../model/inventory.js";
import { ALPINE_RELEASE_PATH, DEBIAN_VERSION_PATH } from "./os-analyzer.js";

/**
 * Chooses the image OS from the surviving OS files (path → what it says): `etc/os-release` over
 * `usr/lib/os-release` (os-release(5) order), refined by the distribution's own release file,
 * which carries the point release (Debian's os-release says "12", debian_version "12.7").
 */
export function resolveOs(found: ReadonlyMap<string, OsInfo>): OsInfo | undefined {
  const base = found.get("etc/os-release") ?? found.get("usr/lib/os-release");
  const debian = found.get(DEBIAN_VERSION_PATH);
  const alpine = found.get(ALPINE_RELEASE_PATH);
  if (!base)
    return alpine ?? (debian && isDebianRelease(debian.version) ? debian : undefined) ?? otherOs(found);
  if (base.family === "debian" && debian && isDebianRelease(debian.version)) {
    const major = debian.version.split(".")[0];
    if (!base.version || base.version === major) return { ...base, version: debian.version };
  }
  if (base.family === "alpine" && alpine && (!base.version || alpine.version.startsWith(base.version))) {
    return { ...base, version: alpine.version };
  }
  if (!base.version && base.family === "debian" && debian) {
    // testing/sid: debian_version says "trixie/sid"; keep the codename as the version
    return { ...base, version: debian.version };
  }
  return base;
}

const KNOWN = new Set(["etc/os-release", "usr/lib/os-release", DEBIAN_VERSION_PATH, ALPINE_RELEASE_PATH]);

/** An OS another analyzer reported (Windows' hive, say), first by path for a stable answer. */
function otherOs(found: ReadonlyMap<string, OsInfo>): OsInfo | undefined {
  const path = [...found.keys()].filter((p) => !KNOWN.has(p)).sort()[0];
  return path === undefined ? undefined : found.get(path);
}

const isDebianRelease = (v: string) => /^\d+(\.\d+)*$/.test(v);
