import type { BlobStore } from "../ports/blob-store.js";
import {
  type AdvisoryEntry,
  CVE_ECOSYSTEM,
  type DbMetadata,
  type PackageRef,
  packageKey,
} from "./db-format.js";
import { readEcosystem } from "./db-read.js";

/**
 * What one DB update changed, for targeted rescans: the (ecosystem, package) pairs whose advisories
 * were added, changed or withdrawn (MSRC's Windows and NuGet products among them), and the CVEs
 * whose own rating changed. `full` means there was no previous DB to compare with.
 */
export interface DbChangeSet {
  version: string;
  since: string | null;
  full: boolean;
  packages: PackageRef[];
  changedCves: string[];
}

// a distribution's own id for a CVE (DEBIAN-CVE-…, UBUNTU-CVE-…) names that CVE
const DISTRO_CVE = /^[A-Z]+-(CVE-\d{4}-\d+)$/;

/** Every CVE id an advisory entry stands for: its id, its aliases, a distribution CVE id's CVE. */
export function cveIdsOf(entry: AdvisoryEntry): string[] {
  const derived = DISTRO_CVE.exec(entry.id)?.[1];
  return [entry.id, ...entry.aliases, ...(derived ? [derived] : [])];
}

/**
 * The change set of DB version `metadata` against its predecessor. A CVE whose rating changed (the
 * CVE records' feed, or `changes.changedCves` from a rating feed) adds the package of every advisory
 * that aliases it: its findings take that rating. Reads every shard only when a CVE changed.
 */
export async function changeSetOf(store: BlobStore, metadata: DbMetadata): Promise<DbChangeSet> {
  const { changes } = metadata;
  const cves = new Set(changes.changedCves ?? []);
  const packages = new Map<string, PackageRef>();
  const add = (ref: PackageRef) =>
    packages.set(`${ref.ecosystem}|${packageKey(ref.ecosystem, ref.name)}`, ref);
  for (const ref of changes.packages) {
    if (ref.ecosystem === CVE_ECOSYSTEM) cves.add(ref.name);
    else add(ref);
  }
  if (cves.size > 0) {
    for (const ecosystem of Object.keys(metadata.ecosystems)) {
      if (ecosystem === CVE_ECOSYSTEM) continue;
      for (const [name, entries] of await readEcosystem(store, metadata, ecosystem))
        if (entries.some((e) => cveIdsOf(e).some((id) => cves.has(id)))) add({ ecosystem, name });
    }
  }
  return {
    version: metadata.version,
    since: changes.since,
    full: changes.full,
    packages: [...packages.values()],
    changedCves: [...cves].sort(),
  };
}

/** Whether applying the update can change any verdict at all. */
export const changesNothing = (set: DbChangeSet): boolean =>
  !set.full && set.packages.length === 0 && set.changedCves.length === 0;
