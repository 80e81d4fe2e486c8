import type { Analyzer, AnalyzerOutput, LayerData } from "../analyzer.js";
import { PathRouter } from "../path-router.js";
import { isRpmDatabasePath } from "../rpm/rpm-analyzer.js";
import { ownedPath } from "./owned-path.js";
import { type OwnedFiles, readApkFiles, readDpkgList, readRpmOwnedFiles } from "./package-manager-files.js";

export const OS_OWNED_FILES = "os-owned-files";

const DPKG_LIST = /^var\/lib\/dpkg\/info\/([^/]+\.list)$/;
const APK_INSTALLED = new Set(["lib/apk/db/installed", "usr/lib/apk/db/installed"]);

/** The package managers whose file lists are read; the name is the inventory's purl type of their packages. */
export type OsPackageManager = "deb" | "rpm" | "apk";

/** One file's data: the OS packages of one list and their files that language analyzers read. */
interface OwnedFilesData {
  manager: OsPackageManager;
  owners: OwnedFiles[];
}

/** The image fact: every surviving language-package file an OS package lists → that package. */
export interface OsOwnedFact {
  files: Record<string, { manager: OsPackageManager; name: string }>;
}

/**
 * Which OS package installed which file, from the file lists of dpkg (`info/*.list`), rpm (the
 * database's file tags) and apk (`R:` lines), kept only for the files `languageReaders` read, so a
 * language package found there can name the OS package that put it in the image.
 */
export function osOwnedFilesAnalyzer(languageReaders: readonly Analyzer[]): Analyzer {
  const readers = new PathRouter(languageReaders);
  const wanted = (listed: string) => readers.wantedByAny(ownedPath(listed));
  return {
    name: OS_OWNED_FILES,
    version: 1,
    maxFileSize: 512 * 1024 * 1024,
    required: (path) => DPKG_LIST.test(path) || APK_INSTALLED.has(path) || isRpmDatabasePath(path),
    async analyze({ path, content }): Promise<AnalyzerOutput> {
      const list = DPKG_LIST.exec(path);
      const data: OwnedFilesData = list
        ? { manager: "deb", owners: readDpkgList(list[1]!, content.toString("utf8"), wanted) }
        : APK_INSTALLED.has(path)
          ? { manager: "apk", owners: readApkFiles(content.toString("utf8"), wanted) }
          : { manager: "rpm", owners: await readRpmOwnedFiles(content, wanted) };
      return data.owners.length > 0 ? { data } : {};
    },
    squash: ownedFilesFact,
  };
}

/** The surviving lists merged into one path → owner map (a later layer's list replaces an earlier one). */
function ownedFilesFact(layers: readonly LayerData[]): OsOwnedFact | undefined {
  const files: OsOwnedFact["files"] = {};
  for (const l of layers) {
    if (!l.survives) continue;
    const { manager, owners } = l.data as OwnedFilesData;
    for (const { name, paths } of owners) for (const p of paths) files[ownedPath(p)] = { manager, name };
  }
  return Object.keys(files).length > 0 ? { files } : undefined;
}
