import { RpmDbError } from "../rpm/rpm-db.js";
import { isRpmDatabasePath, readRpmDbBlobs } from "../rpm/rpm-analyzer.js";
import { RpmHeader, RpmHeaderError, TAG } from "../rpm/rpm-header.js";
import type { ContentData } from "./content-data.js";

/** What apk and rpm record of each installed file: the package, the digest algorithm and value. */
export type PackageDigests = Extract<ContentData, { kind: "package-digests" }>;
type Algo = PackageDigests["packages"][number]["algo"];

// apk-tools 3 moved the database under /usr
const APK_INSTALLED = new Set(["lib/apk/db/installed", "usr/lib/apk/db/installed"]);

/** The databases whose file digests the integrity cross-check reads (apk's `installed`, rpm's three formats). */
export function isPackageDigestDatabase(path: string): boolean {
  return APK_INSTALLED.has(path) || (isRpmDatabasePath(path) && !path.endsWith("-wal"));
}

/** `Q1` + base64 is a SHA-1 (apk-tools 2), `Q2` + base64 a SHA-256 (apk-tools 3), bare hex an MD5. */
function apkDigest(value: string): { algo: Algo; hex: string } | undefined {
  const q = /^Q([12])([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (q) {
    const bytes = Buffer.from(q[2]!, "base64");
    const algo = q[1] === "1" ? "sha1" : "sha256";
    return bytes.length === (algo === "sha1" ? 20 : 32) ? { algo, hex: bytes.toString("hex") } : undefined;
  }
  return /^[0-9a-f]{32}$/.test(value) ? { algo: "md5", hex: value } : undefined;
}

// apk treats etc/ as protected: users edit it and apk keeps their copy (`.apk-new`), as dpkg's conffiles
const APK_PROTECTED = /^etc\//;

/**
 * apk's installed database as apk-tools writes it: `P:` starts a package, `F:` names a directory,
 * `R:` a file in it and the `Z:` after it that file's checksum. Lines it does not know are skipped;
 * a `Z:` that does not decode is counted, not trusted.
 */
export function parseApkDigests(text: string): PackageDigests {
  const packages: PackageDigests["packages"] = [];
  let problems = 0;
  let pkg: PackageDigests["packages"][number] | undefined;
  let dir = "";
  let file: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line === "") {
      pkg = undefined;
      file = undefined;
      dir = "";
      continue;
    }
    const value = line.slice(2);
    if (line[1] !== ":") continue;
    if (line[0] === "P") {
      pkg = { name: value, algo: "sha1", files: [] };
      packages.push(pkg);
    } else if (line[0] === "V" && pkg !== undefined) {
      pkg.version = value;
    } else if (line[0] === "F") {
      dir = value.replace(/^\/+|\/+$/g, "");
      file = undefined;
    } else if (line[0] === "R") file = `${dir ? `${dir}/` : ""}${value}`;
    else if (line[0] === "Z" && pkg !== undefined && file !== undefined) {
      const digest = apkDigest(value);
      if (digest === undefined) problems++;
      else if (pkg.files.length === 0 || pkg.algo === digest.algo) {
        pkg.algo = digest.algo;
        listFor(pkg, APK_PROTECTED.test(file)).push([file, digest.hex]);
      } else problems++; // one algorithm per package; a mixed one is not guessed at
      file = undefined;
    }
  }
  return {
    kind: "package-digests",
    manager: "apk",
    packages: packages.filter(hasFiles),
    ...(problems > 0 ? { unreadable: problems } : {}),
  };
}

function listFor(pkg: PackageDigests["packages"][number], config: boolean): [string, string][] {
  if (!config) return pkg.files;
  pkg.config ??= [];
  return pkg.config;
}

const hasFiles = (p: PackageDigests["packages"][number]) => p.files.length > 0 || (p.config?.length ?? 0) > 0;

const FILEDIGESTS = 1035;
const FILEFLAGS = 1037;
const FILEDIGESTALGO = 5011;
const RPMFILE_CONFIG = 1 << 0;
const RPMFILE_GHOST = 1 << 6;
// rpm's PGPHASHALGO numbers; without the tag the digests are MD5 (rpm < 4.6)
const RPM_ALGOS: Record<number, Algo> = { 1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512" };
const MAX_FILES = 1_000_000;

/**
 * Each rpm header's files with their FILEDIGESTS (in FILEDIGESTALGO): %config files apart (users edit
 * them), %ghost files and those without a digest (directories, symlinks) left out. A database or
 * header that cannot be read is counted; the rpm analyzer warns about the same database and record.
 */
export async function readRpmDigests(content: Buffer): Promise<PackageDigests> {
  const packages: PackageDigests["packages"] = [];
  let problems = 0;
  let blobs: Buffer[];
  try {
    const read = await readRpmDbBlobs(content);
    blobs = read.blobs;
    problems += read.problems.length;
  } catch (err) {
    if (!(err instanceof RpmDbError)) throw err;
    return { kind: "package-digests", manager: "rpm", packages, unreadable: 1 };
  }
  for (const blob of blobs) {
    try {
      const h = new RpmHeader(blob);
      const name = h.string(TAG.NAME);
      if (!name || name === "gpg-pubkey") continue;
      const algo = RPM_ALGOS[h.int32(FILEDIGESTALGO) ?? 1];
      const bases = h.stringArray(TAG.BASENAMES, MAX_FILES);
      if (algo === undefined) {
        problems++;
        continue;
      }
      const dirs = h.stringArray(TAG.DIRNAMES, MAX_FILES);
      const index = h.int32Array(TAG.DIRINDEXES, bases.length);
      const digests = h.stringArray(FILEDIGESTS, bases.length);
      const flags = h.int32Array(FILEFLAGS, bases.length);
      const [epoch, version, release] = [h.int32(TAG.EPOCH), h.string(TAG.VERSION), h.string(TAG.RELEASE)];
      const evr =
        version === undefined ? undefined : `${epoch ? `${epoch}:` : ""}${version}-${release ?? ""}`;
      const pkg: PackageDigests["packages"][number] = {
        name,
        ...(evr !== undefined ? { version: evr } : {}),
        algo,
        files: [],
      };
      for (const [i, base] of bases.entries()) {
        const dir = dirs[index[i] ?? -1];
        const digest = digests[i]?.toLowerCase();
        const flag = flags[i] ?? 0;
        if (dir === undefined || !digest || !/^[0-9a-f]+$/.test(digest) || flag & RPMFILE_GHOST) continue;
        const path = `${dir}${base}`.replace(/^\/+/, "");
        listFor(pkg, (flag & RPMFILE_CONFIG) !== 0).push([path, digest]);
      }
      if (hasFiles(pkg)) packages.push(pkg);
    } catch (err) {
      if (!(err instanceof RpmHeaderError)) throw err;
      problems++;
    }
  }
  return {
    kind: "package-digests",
    manager: "rpm",
    packages,
    ...(problems > 0 ? { unreadable: problems } : {}),
  };
}

/** apk's or rpm's digests of one database file, by its path. */
export async function readPackageDigests(path: string, content: Buffer): Promise<PackageDigests> {
  return APK_INSTALLED.has(path) ? parseApkDigests(content.toString("utf8")) : readRpmDigests(content);
}
