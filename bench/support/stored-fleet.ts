// Stored inventories for the rescan bench, built from the real package databases under
// ../shared/corpus/pkgdb/ (read in place): OS base layers shared by many images, an app layer each.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { PackageIdentity, PackageRecord } from "../../shared/analysis/analyzer.js";
import { identifyApkPackage, parseApkInstalled } from "../../shared/analysis/apk/apk-analyzer.js";
import { identifyDebPackage, parseDpkgDatabase } from "../../shared/analysis/dpkg/dpkg-analyzer.js";
import { identifyNpmPackage } from "../../shared/analysis/npm/npm-analyzer.js";
import { readPackageLock } from "../../shared/analysis/npm/package-lock.js";
import { toRecord } from "../../shared/analysis/npm/npm-record.js";
import { readYarnLock } from "../../shared/analysis/npm/yarn-lock.js";
import { identifyPypiPackage } from "../../shared/analysis/pypi/pypi-analyzer.js";
import { readPackageTables, readPipfileLock } from "../../shared/analysis/pypi/python-lockfiles.js";
import { identifyRpmPackage, parseRpmDatabase } from "../../shared/analysis/rpm/rpm-analyzer.js";
import type { OsInfo, Package } from "../../shared/model/inventory.js";
import type { Inventory } from "../../shared/model/report.js";
import { corpusPath } from "../../test/support/corpus.js";

/** A base layer: one OS's packages, as one real package database lists them. */
interface BaseLayer {
  os: OsInfo;
  digest: string;
  packages: Package[];
}

const layerDigest = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

function toPackages(
  records: readonly PackageRecord[],
  identify: (r: PackageRecord) => PackageIdentity,
  layer: string,
  path: string,
): Package[] {
  return records.map((r) => ({
    name: r.name,
    version: r.version,
    ...identify(r),
    ...(r.source ? { source: r.source } : {}),
    layer,
    paths: [path],
  }));
}

async function baseLayers(): Promise<BaseLayer[]> {
  const bases: BaseLayer[] = [];
  const rpm = async (file: string, os: OsInfo) => {
    const { packages } = await parseRpmDatabase(await readFile(corpusPath("pkgdb", file)), file);
    const digest = layerDigest(file);
    bases.push({
      os,
      digest,
      packages: toPackages(packages, (r) => identifyRpmPackage(r, os), digest, file),
    });
  };
  await rpm("rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", { family: "mariner", version: "2.0" });
  await rpm("rpm/go-rpmdb/sle15-bci/Packages.db", { family: "sles", version: "15.3" });
  const alpine: OsInfo = { family: "alpine", version: "3.10.4" };
  for (const file of [
    "apk/trivy-alpine-3.10.4/lib/apk/db/installed",
    "apk/scalibr/installed",
    "apk/syft/multiple-2/lib/apk/db/installed",
  ]) {
    const { packages } = parseApkInstalled(await readFile(corpusPath("pkgdb", file), "utf8"), file);
    const digest = layerDigest(file);
    bases.push({
      os: alpine,
      digest,
      packages: toPackages(packages, (r) => identifyApkPackage(r, alpine), digest, file),
    });
  }
  const debian: OsInfo = { family: "debian", version: "12" };
  for (const file of ["dpkg/scalibr/valid"]) {
    const { packages } = parseDpkgDatabase(await readFile(corpusPath("pkgdb", file)), { path: file });
    const digest = layerDigest(file);
    bases.push({
      os: debian,
      digest,
      packages: toPackages(packages, (r) => identifyDebPackage(r, debian), digest, file),
    });
  }
  return bases.filter((b) => b.packages.length > 0);
}

/** Application packages (npm and PyPI lockfiles), the pool app layers draw from. */
async function appPool(): Promise<Package[]> {
  const out: Package[] = [];
  const text = (file: string) => readFile(corpusPath("pkgdb", file), "utf8");
  for (const file of [
    "npm/syft/package-lock.json",
    "npm/syft/package-lock-2.json",
    "npm/syft/package-lock-3.json",
  ]) {
    const read = readPackageLock(JSON.parse(await text(file)));
    out.push(...toPackages(read.packages.map(toRecord), identifyNpmPackage, "", file));
  }
  for (const file of ["npm/syft/yarn.lock"]) {
    const read = readYarnLock(await text(file));
    out.push(...toPackages(read.packages.map(toRecord), identifyNpmPackage, "", file));
  }
  for (const file of ["python/syft/poetry.lock", "python/syft/uv.lock"])
    out.push(...toPackages(readPackageTables(await text(file)).packages, identifyPypiPackage, "", file));
  out.push(
    ...toPackages(
      readPipfileLock(await text("python/syft/Pipfile.lock")).packages,
      identifyPypiPackage,
      "",
      "Pipfile.lock",
    ),
  );
  // one of each (ecosystem, name, version): lockfiles overlap
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = `${p.ecosystem}\0${p.name}\0${p.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface StoredFleetImage {
  digest: string;
  inventory: Inventory;
}

export interface FleetSource {
  /** every distinct package, for the advisories */
  packages: Package[];
  image(i: number): StoredFleetImage;
}

/** One image in this many carries the fleet's rare package (a targeted update touching 1 %). */
export const RARE_EVERY = 100;

/**
 * Image `i`: a base layer (round robin over the real OS databases) and an app layer of packages
 * drawn from the lockfiles, sized so the image has 100–400 packages; every `RARE_EVERY`-th image
 * also carries the rare package, one real lockfile package kept out of the others' draw.
 * Deterministic per `i`.
 */
export async function storedFleet(registry: string): Promise<FleetSource> {
  const bases = await baseLayers();
  const pool = await appPool();
  const rare = pool.at(-1)!;
  const apps = pool.slice(0, -1).filter((p) => p.ecosystem !== rare.ecosystem || p.name !== rare.name);
  const all = new Map<string, Package>();
  for (const p of [...bases.flatMap((b) => b.packages), ...apps, rare])
    all.set(`${p.ecosystem}\0${p.name}\0${p.version}`, p);
  return {
    packages: [...all.values()],
    image(i) {
      const base = bases[i % bases.length]!;
      const want = 100 + ((i * 7919) % 301);
      const take = Math.max(0, want - base.packages.length);
      const start = (i * 104_729) % Math.max(1, apps.length);
      const digest = layerDigest(`bench image ${i}`);
      const appLayer = layerDigest(`bench app layer ${i}`);
      // past the pool's size the app layer holds several apps, each with its own node_modules / site-packages
      const app = Array.from({ length: take }, (_, k) => {
        const p = apps[(start + k) % apps.length]!;
        return { ...p, layer: appLayer, paths: [`opt/app-${Math.floor(k / apps.length)}/${p.paths[0]}`] };
      });
      const packages = [
        ...base.packages,
        ...app,
        ...(i % RARE_EVERY === 0
          ? [{ ...rare, layer: appLayer, paths: [`opt/app-rare/${rare.paths[0]}`] }]
          : []),
      ];
      return {
        digest,
        inventory: {
          schemaVersion: 1,
          image: {
            ref: `${registry}/bench/app-${i % 100}@${digest}`,
            registry,
            repository: `bench/app-${i % 100}`,
            digest,
            tags: [`v${i}`],
            platform: { os: "linux", architecture: "amd64" },
            os: base.os,
          },
          layers: [base.digest, appLayer],
          analyzerSet: "bench",
          packages,
          warnings: [],
        },
      };
    },
  };
}
