import { PackageURL } from "packageurl-js";
import type { OsInfo } from "../../model/inventory.js";
import type {
  Analyzer,
  AnalyzerOutput,
  AnalyzerWarning,
  PackageIdentity,
  PackageRecord,
} from "../analyzer.js";
import { readBerkeleyDb } from "./berkeley-db.js";
import { readNdb } from "./ndb.js";
import { type RpmDbBlobs, RpmDbError } from "./rpm-db.js";
import { inventoryEcosystem } from "../os/osv-ecosystem.js";
import { parseSourceRpm, type RpmPackage, readRpmPackage } from "./rpm-header.js";
import { readRpmManifest } from "./rpm-manifest.js";
import { readSqliteDb } from "./sqlite-db.js";
import { excerpt } from "../excerpt.js";

// rpm < 4.16 and RHEL 7/8 keep /var/lib/rpm; Fedora 36+, SUSE and RHEL 9 moved it to /usr/lib/sysimage
const DIRS = ["var/lib/rpm/", "usr/lib/sysimage/rpm/"];
const FILES = new Set(["Packages", "Packages.db", "rpmdb.sqlite", "rpmdb.sqlite-wal"]);
const MANIFEST = "var/lib/rpmmanifest/container-manifest-2";

/** An rpm database file (SQLite, Berkeley DB or NDB) in either of the places rpm keeps it. */
export function isRpmDatabasePath(path: string): boolean {
  const dir = DIRS.find((d) => path.startsWith(d));
  return dir !== undefined && FILES.has(path.slice(dir.length));
}

/** Reads the rpm database in all three formats, chosen by the file's magic rather than its name. */
export const rpmAnalyzer: Analyzer = {
  name: "rpm",
  version: 1,
  maxFileSize: 512 * 1024 * 1024,
  required: (path) => path === MANIFEST || isRpmDatabasePath(path),
  async analyze({ path, content }): Promise<AnalyzerOutput> {
    if (path === MANIFEST) return parseRpmManifest(content, path);
    if (!path.endsWith("-wal")) return parseRpmDatabase(content, path);
    // rpm checkpoints on close; changes left in the write-ahead log are not read, so say so
    if (content.length === 0) return {};
    const message = `${path}: ${content.length} bytes of uncheckpointed rpm database changes were not read`;
    return { warnings: [{ code: "rpm-db-unreadable", message, path }] };
  },
  identify: identifyRpmPackage,
};

/** Every package in one rpm database file, with one warning per record (or file) that could not be read. */
export async function parseRpmDatabase(
  content: Buffer,
  path: string,
): Promise<{ packages: PackageRecord[]; warnings: AnalyzerWarning[] }> {
  const warnings: AnalyzerWarning[] = [];
  const warn = (message: string) =>
    warnings.push({ code: "rpm-db-unreadable", message: `${path}: ${excerpt(message)}`, path });
  let read: RpmDbBlobs;
  try {
    read = await readRpmDbBlobs(content);
  } catch (err) {
    if (!(err instanceof RpmDbError)) throw err;
    warn(err.message);
    return { packages: [], warnings };
  }
  for (const problem of read.problems) warn(problem);
  const packages: PackageRecord[] = [];
  for (const [i, blob] of read.blobs.entries()) {
    let pkg: RpmPackage;
    try {
      pkg = readRpmPackage(blob);
    } catch (err) {
      warn(`record ${i + 1}: ${(err as Error).message}`);
      continue;
    }
    // imported signing keys are headers too (rpm -qa lists them); they are not software
    if (pkg.name === "gpg-pubkey") continue;
    packages.push(toRecord(pkg));
  }
  return { packages, warnings };
}

function parseRpmManifest(content: Buffer, path: string): AnalyzerOutput {
  const read = readRpmManifest(content.toString("utf8"));
  return {
    packages: read.packages.filter((p) => p.name !== "gpg-pubkey").map(toRecord),
    warnings: read.problems.map((p) => ({
      code: "rpm-db-unreadable",
      message: `${path}: ${excerpt(p)}`,
      path,
    })),
  };
}

/**
 * The rpm analyzer, the os-owned file lists and the configuration audit read the same database
 * file in the same walk (the walk hands each the same buffer): it is parsed once for all three.
 */
const parsedDbs = new WeakMap<Buffer, Promise<RpmDbBlobs>>();

/** The header blobs of an rpm database, its format told by magic; rejects with RpmDbError when it is none. */
export function readRpmDbBlobs(content: Buffer): Promise<RpmDbBlobs> {
  let read = parsedDbs.get(content);
  if (read === undefined) {
    read = (async () => readRpmDbFormat(content))();
    parsedDbs.set(content, read);
  }
  return read;
}

function readRpmDbFormat(content: Buffer): RpmDbBlobs | Promise<RpmDbBlobs> {
  if (content.toString("latin1", 0, 6) === "SQLite") return readSqliteDb(content);
  if (content.toString("latin1", 0, 4) === "RpmP") return readNdb(content);
  if (content.length >= 16) return readBerkeleyDb(content);
  throw new RpmDbError(`${content.length} bytes is not an rpm database`);
}

const evr = (epoch: number | undefined, version: string, release: string) =>
  `${epoch ? `${epoch}:` : ""}${version}-${release}`;

function toRecord(pkg: RpmPackage): PackageRecord {
  const version = evr(pkg.epoch, pkg.version, pkg.release);
  const src = pkg.sourceRpm ? parseSourceRpm(pkg.sourceRpm) : undefined;
  // the source RPM's file name carries no epoch; distributions give it the binary's, as Trivy assumes
  const source = src
    ? { name: src.name, version: evr(pkg.epoch, src.version, src.release) }
    : { name: pkg.name, version };
  return { kind: "rpm", name: pkg.name, version, source, ...(pkg.arch ? { arch: pkg.arch } : {}) };
}

/** `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=…&epoch=…&distro=<id>-<version>` and its OSV ecosystem. */
export function identifyRpmPackage(record: PackageRecord, os: OsInfo | undefined): PackageIdentity {
  const colon = record.version.indexOf(":");
  const epoch = colon > 0 ? record.version.slice(0, colon) : undefined;
  const qualifiers: Record<string, string> = {};
  if (record.arch) qualifiers.arch = record.arch;
  if (epoch) qualifiers.epoch = epoch;
  if (os?.version) qualifiers.distro = `${os.family}-${os.version}`;
  const purl = new PackageURL(
    "rpm",
    rpmNamespace(os),
    record.name,
    colon > 0 ? record.version.slice(colon + 1) : record.version,
    qualifiers,
    undefined,
  ).toString();
  return { ecosystem: inventoryEcosystem(os, "rpm"), purl };
}

/** purl namespace: the distribution's vendor id as purl-spec's rpm examples use it. */
function rpmNamespace(os: OsInfo | undefined): string {
  if (!os) return "rpm";
  if (os.family === "rhel") return "redhat";
  if (os.family.startsWith("sle") || os.family === "sles_sap") return "suse";
  if (os.family.startsWith("opensuse")) return "opensuse";
  return os.family;
}
