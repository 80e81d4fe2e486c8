import { RpmDbError } from "../rpm/rpm-db.js";
import { readRpmDbBlobs } from "../rpm/rpm-analyzer.js";
import { readRpmFiles } from "../rpm/rpm-header.js";

/** One OS package and the files of its list that a language analyzer reads. */
export interface OwnedFiles {
  name: string;
  paths: string[];
}

type Wanted = (path: string) => boolean;

/** `var/lib/dpkg/info/<package>[:<arch>].list`: one path a line. */
export function readDpkgList(fileName: string, text: string, wanted: Wanted): OwnedFiles[] {
  const name = fileName.replace(/\.list$/, "").replace(/:[^:]*$/, "");
  const paths = text.split("\n").filter((line) => line.startsWith("/") && wanted(line));
  return paths.length > 0 ? [{ name, paths }] : [];
}

/** apk's installed database: `P:` names a package, `F:` a directory, `R:` a file in the last directory. */
export function readApkFiles(text: string, wanted: Wanted): OwnedFiles[] {
  const owners: OwnedFiles[] = [];
  let current: OwnedFiles | undefined;
  let dir = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      current = undefined;
      dir = "";
      continue;
    }
    const value = line.slice(2);
    if (line.startsWith("P:")) {
      current = { name: value, paths: [] };
      owners.push(current);
    } else if (line.startsWith("F:")) dir = value;
    else if (line.startsWith("R:") && current) {
      const path = `/${dir ? `${dir}/` : ""}${value}`;
      if (wanted(path)) current.paths.push(path);
    }
  }
  return owners.filter((o) => o.paths.length > 0);
}

/**
 * Every header of an rpm database (any of its three formats) with the files it installed; what cannot
 * be read is skipped here, since the rpm analyzer already warns about the same database and record.
 */
export async function readRpmOwnedFiles(content: Buffer, wanted: Wanted): Promise<OwnedFiles[]> {
  let blobs: Buffer[];
  try {
    blobs = (await readRpmDbBlobs(content)).blobs;
  } catch (err) {
    if (err instanceof RpmDbError) return [];
    throw err;
  }
  const owners: OwnedFiles[] = [];
  for (const blob of blobs) {
    try {
      const { name, files } = readRpmFiles(blob);
      const paths = files.filter(wanted);
      if (paths.length > 0) owners.push({ name, paths });
    } catch {
      // the rpm analyzer's warning for this record says it
    }
  }
  return owners;
}
