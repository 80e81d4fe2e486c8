import type { Analyzer, AnalyzerOutput, LayerData } from "../analyzer.js";

/** Package databases by where they live in an image, whatever reads them (or not). */
const DATABASES: ReadonlyMap<string, string> = new Map([
  ["var/lib/dpkg/status", "dpkg"],
  ["lib/apk/db/installed", "apk"],
  ["usr/lib/apk/db/installed", "apk"],
  // rpm: Berkeley DB (RHEL ≤ 8, Amazon Linux 2), sqlite (RHEL 9, Fedora, Amazon Linux 2023, Azure Linux), ndb (SUSE)
  ["var/lib/rpm/Packages", "rpm"],
  ["var/lib/rpm/rpmdb.sqlite", "rpm"],
  ["var/lib/rpm/Packages.db", "rpm"],
  ["usr/lib/sysimage/rpm/Packages", "rpm"],
  ["usr/lib/sysimage/rpm/rpmdb.sqlite", "rpm"],
  ["usr/lib/sysimage/rpm/Packages.db", "rpm"],
  ["var/lib/rpmmanifest/container-manifest-2", "rpm"],
  ["var/lib/pacman/local/ALPM_DB_VERSION", "pacman"],
  ["var/lib/opkg/status", "opkg"],
]);

export interface PackageDbSighting {
  format: string;
}

export const UNREAD_PACKAGE_DB = "unread-package-db";

/**
 * Notes every package database an image holds that none of `readers` reads, by its path alone, so
 * the image is reported as not fully scanned instead of passing clean (gap-warnings.ts). A reader
 * added to the list takes its databases off this one's.
 */
export function unreadPackageDbAnalyzer(readers: readonly Analyzer[]): Analyzer {
  const others = [...readers];
  return {
    name: UNREAD_PACKAGE_DB,
    version: 1,
    // the whole file is read whenever it fits the layer limits: presence must not depend on its size
    maxFileSize: Number.MAX_SAFE_INTEGER,
    required: (path) => DATABASES.has(path) && !others.some((a) => a.required(path)),
    analyze({ path }): AnalyzerOutput {
      const data: PackageDbSighting = { format: DATABASES.get(path)! };
      return { data };
    },
    squash: (layers) => squashSightings(layers),
  };
}

/** The surviving databases, by path: a database a later layer deleted is not in the image. */
export function squashSightings(
  layers: readonly LayerData[],
): { path: string; format: string }[] | undefined {
  const found = layers
    .filter((l) => l.survives)
    .map((l) => ({ path: l.path, format: (l.data as PackageDbSighting).format }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return found.length > 0 ? found : undefined;
}
