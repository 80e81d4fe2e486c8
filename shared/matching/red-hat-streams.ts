import type { Package } from "../model/inventory.js";

// `Red Hat:<product>:<release>::<repository>`: Red Hat's advisories name a CPE product stream
const STREAM = /^Red Hat:([a-z0-9_]+):(\d+)(?:\.(\d+))?(?:\.[\d.]+)?::[\w.-]+$/;
// streams that carry one minor release longer (extended, advanced, update and telecom support)
const MINOR_STREAMS = new Set(["rhel_eus", "rhel_aus", "rhel_e4s", "rhel_tus"]);
// an rpm purl's `distro=rhel-8.6` qualifier: the image's minor release
const DISTRO = /[?&]distro=rhel-(\d+)(?:\.(\d+))?/;

/**
 * The Red Hat product streams a RHEL (or UBI) package is matched in. The rpm database does not
 * record which repository a package came from, so every stream of the image's major release that
 * the DB holds counts (BaseOS, AppStream, CodeReady …, a package's name telling them apart), and the
 * minor-release streams (EUS, AUS, E4S, TUS) of the image's own minor release. Empty for any other package.
 */
export function redHatStreams(pkg: Package, known: readonly string[]): string[] {
  const own = STREAM.exec(pkg.ecosystem);
  if (!own || !pkg.purl.startsWith("pkg:rpm/")) return [];
  const major = own[2]!;
  const minor = DISTRO.exec(pkg.purl)?.[2];
  return known.filter((ecosystem) => {
    const m = STREAM.exec(ecosystem);
    if (!m || m[2] !== major) return false;
    if (m[1] === "enterprise_linux") return m[3] === undefined;
    return MINOR_STREAMS.has(m[1]!) && minor !== undefined && m[3] === minor;
  });
}
