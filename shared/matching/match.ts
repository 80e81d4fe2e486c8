import type { z } from "zod";
import type { Package } from "../model/inventory.js";
import {
  FindingSchema,
  SEVERITY_ORDER,
  type Severity,
  type SeveritySource,
  SeveritySourceSchema,
} from "../model/report.js";
import {
  type AdvisoryEntry,
  CVE_ECOSYSTEM,
  DEBIAN_TRACKER_ECOSYSTEM,
  NVD_ECOSYSTEM,
} from "../vulndb/db-format.js";
import { trackerKey } from "../vulndb/debian-tracker/tracker-json.js";
import { RemediationHintSchema } from "../vulndb/msrc/remediation-hint.js";
import type { AdvisoryLookup, DbHandle } from "../vulndb/db-read.js";
import { ecosystemBase } from "../vulndb/osv.js";
import { versioningFor } from "../vulndb/versioning/index.js";
import type { Versioning } from "../vulndb/versioning/versioning.js";
import { evaluateEntry } from "./affected.js";
import { redHatStreams } from "./red-hat-streams.js";

/** A finding before policy: no tier, remediation or suppression yet. */
export const MatchSchema = FindingSchema.omit({ tier: true, remediation: true, suppressed: true }).extend({
  /** the advisory's own fix advice for the fix chosen (MSRC KB and date); not part of the report */
  remediationHint: RemediationHintSchema.optional(),
});
export type Match = z.infer<typeof MatchSchema>;

const DEBIAN_FAMILY = new Set(["Debian", "Ubuntu"]);

/**
 * The name and version advisories know a package by. Distribution advisories are keyed by source
 * package, so dpkg/rpm/apk packages with a `source` are looked up by source name and version;
 * a Debian binNMU suffix (`+b13`) never exists in a source version.
 */
export function advisoryCoordinates(pkg: Package): { ecosystem: string; name: string; version: string } {
  const base = ecosystemBase(pkg.ecosystem);
  let name = pkg.source?.name ?? pkg.name;
  let version = pkg.source?.version ?? pkg.version;
  if (DEBIAN_FAMILY.has(base)) version = version.replace(/\+b\d+$/, "");
  // Go module versions carry a "v" the OSV Go ranges leave out
  if (base === "Go" && /^v\d/.test(version)) version = version.slice(1);
  if (!name) name = pkg.name;
  return { ecosystem: pkg.ecosystem, name, version };
}

const CVE = /^CVE-\d{4}-\d+$/;
// DEBIAN-CVE-…, UBUNTU-CVE-…, ALPINE-CVE-… are the distribution's view of that CVE
const DISTRO_CVE = /^[A-Z]+-(CVE-\d{4}-\d+)$/;

function identifiers(entry: AdvisoryEntry): string[] {
  const ids = [entry.id, ...entry.aliases];
  const derived = DISTRO_CVE.exec(entry.id)?.[1];
  if (derived) ids.push(derived);
  return ids;
}

interface Hit {
  entry: AdvisoryEntry;
  fixedVersion?: string;
}

/** Groups hits that share any identifier (id, alias, or a distribution CVE id's CVE). */
function groupHits(hits: Hit[]): Hit[][] {
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  hits.forEach((hit, i) => {
    for (const id of identifiers(hit.entry)) {
      const j = owner.get(id);
      if (j === undefined) owner.set(id, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Hit[]>();
  hits.forEach((hit, i) => {
    const root = find(i);
    const g = groups.get(root) ?? [];
    g.push(hit);
    groups.set(root, g);
  });
  return [...groups.values()];
}

const rank = (s: Severity) => SEVERITY_ORDER.indexOf(s);
const sourceRank = (s: SeveritySource | undefined) => SeveritySourceSchema.options.indexOf(s ?? "none");

function higher(scheme: Versioning | undefined, a: string, b: string): boolean {
  try {
    return scheme !== undefined && scheme.compare(a, b) > 0;
  } catch {
    return false; // an unparseable fix version never displaces a parseable one
  }
}

function mergeGroup(pkg: Package, group: Hit[], scheme: Versioning | undefined): Match {
  const ids = new Set(group.flatMap((h) => identifiers(h.entry)));
  const sorted = [...ids].sort();
  const id = sorted.find((x) => CVE.test(x)) ?? group.map((h) => h.entry.id).sort()[0]!;
  // the best-sourced rating wins (advisory, distribution, CVSS …); the highest among equals
  const rated = [...group].sort(
    (a, b) =>
      sourceRank(a.entry.severitySource) - sourceRank(b.entry.severitySource) ||
      rank(a.entry.severity) - rank(b.entry.severity) ||
      (b.entry.cvss?.score ?? -1) - (a.entry.cvss?.score ?? -1),
  )[0]!;
  const severity = rated.entry.severity;
  const scored =
    rated.entry.cvss !== undefined
      ? rated
      : group.filter((h) => h.entry.cvss).sort((a, b) => b.entry.cvss!.score - a.entry.cvss!.score)[0];
  // every merged advisory must be satisfied, so the highest of their fixes is the one to install
  let fixedVersion: string | undefined;
  for (const h of group) {
    if (h.fixedVersion === undefined) continue;
    if (fixedVersion === undefined || higher(scheme, h.fixedVersion, fixedVersion))
      fixedVersion = h.fixedVersion;
  }
  const summary = (group.find((h) => h.entry.id === id) ?? group.find((h) => h.entry.summary))?.entry.summary;
  // the advice that goes with the fix to install, not with a lower one
  const remediationHint = (
    group.find((h) => h.entry.remediationHint && h.fixedVersion === fixedVersion) ??
    group.find((h) => h.entry.remediationHint)
  )?.entry.remediationHint;
  // an advisory's upstream CVEs name the finding too (policy ids, CVE ratings), without merging advisories
  const upstream = group.flatMap((h) => h.entry.upstream ?? []).filter((u) => !ids.has(u));
  return {
    id,
    aliases: [...new Set([...sorted.filter((x) => x !== id), ...upstream])].sort(),
    ...(summary ? { summary } : {}),
    package: {
      name: pkg.name,
      version: pkg.version,
      ecosystem: pkg.ecosystem,
      purl: pkg.purl,
      ...(pkg.dev ? { dev: true } : {}),
      ...(pkg.installedBy ? { installedBy: pkg.installedBy.name } : {}),
    },
    ...(fixedVersion !== undefined ? { fixedVersion } : {}),
    severity,
    ...(scored?.entry.cvss ? { cvss: scored.entry.cvss } : {}),
    severitySource: rated.entry.severitySource ?? (severity === "unknown" ? "none" : "advisory"),
    layer: pkg.layer,
    ...(remediationHint ? { remediationHint } : {}),
  };
}

function schemeFor(ecosystem: string, cache: Map<string, Versioning | undefined>): Versioning | undefined {
  if (!cache.has(ecosystem)) cache.set(ecosystem, versioningFor(ecosystem));
  return cache.get(ecosystem);
}

/**
 * Matches packages against advisories already in memory (synchronous; the hot loop). `alsoIn` names
 * further ecosystems a package's advisories may sit in (a RHEL package's other product streams).
 */
export function matchPackages(
  packages: readonly Package[],
  lookup: AdvisoryLookup,
  alsoIn: (pkg: Package) => readonly string[] = () => [],
): Match[] {
  const schemes = new Map<string, Versioning | undefined>();
  const matches: Match[] = [];
  for (const pkg of packages) {
    const { ecosystem, name, version } = advisoryCoordinates(pkg);
    const more = alsoIn(pkg).filter((e) => e !== ecosystem);
    const entries = [ecosystem, ...more].flatMap((e) => lookup(e, name));
    if (entries.length === 0) continue;
    const scheme = schemeFor(ecosystem, schemes);
    const hits: Hit[] = [];
    for (const entry of entries) {
      const r = evaluateEntry(entry, version, scheme);
      if (r.affected)
        hits.push(r.fixedVersion === undefined ? { entry } : { entry, fixedVersion: r.fixedVersion });
    }
    for (const group of groupHits(hits)) matches.push(mergeGroup(pkg, group, scheme));
  }
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return matches.sort(
    (a, b) =>
      byText(a.package.ecosystem, b.package.ecosystem) ||
      byText(a.package.name, b.package.name) ||
      byText(a.package.version, b.package.version) ||
      byText(a.id, b.id),
  );
}

/** Which packages are matched besides the default set; the policy fields of the same names (docs/policy.md). */
export interface MatchOptions {
  /** a language package an OS package installed: `os` matches it only through that OS package (Trivy's default) */
  osOwnedPackages?: "os" | "both";
  /** a development dependency a lockfile marks: `ignore` leaves it unmatched (Trivy's default) */
  devDependencies?: "ignore" | "match";
}

/** The packages matched against advisories: an OS-installed or development one only when asked. */
export function packagesToMatch(
  packages: readonly Package[],
  options: MatchOptions = {},
): readonly Package[] {
  const osOwned = options.osOwnedPackages === "both";
  const dev = options.devDependencies === "match";
  return packages.filter((p) => (osOwned || p.installedBy === undefined) && (dev || !p.dev));
}

/** Matches an inventory's packages against the DB, loading only the shards those packages live in. */
export async function matchInventory(
  all: readonly Package[],
  db: DbHandle,
  options: MatchOptions = {},
): Promise<Match[]> {
  const packages = packagesToMatch(all, options);
  const known = Object.keys(db.metadata.ecosystems);
  const streams = (pkg: Package) => redHatStreams(pkg, known);
  const wanted = packages.flatMap((pkg) => {
    const c = advisoryCoordinates(pkg);
    return [c, ...streams(pkg).map((ecosystem) => ({ ...c, ecosystem }))];
  });
  const lookup = await db.preload(wanted);
  const matches = matchPackages(packages, lookup, streams);
  await rateFromDistributionTracker(matches, packages, db);
  return rateFromCveRecords(matches, db);
}

const cvesOf = (m: Match) => [m.id, ...m.aliases].filter((x) => CVE.test(x));
const DISTRIBUTION_RANK = sourceRank("distribution");

/**
 * A Debian finding no advisory or distribution record rates takes the Debian security tracker's
 * urgency for its CVE, release and source package (the DB's Debian-tracker feed): the distribution's
 * rating outranks any CVSS (docs/policy.md). The most urgent when it names several CVEs.
 */
export async function rateFromDistributionTracker(
  matches: Match[],
  packages: readonly Package[],
  db: DbHandle,
): Promise<Match[]> {
  const sourceOf = new Map<string, string>();
  for (const p of packages) {
    if (ecosystemBase(p.ecosystem) !== "Debian") continue;
    sourceOf.set(`${p.ecosystem}\0${p.name}\0${p.version}`, advisoryCoordinates(p).name);
  }
  const keyOf = (m: Match) => {
    const source = sourceOf.get(`${m.package.ecosystem}\0${m.package.name}\0${m.package.version}`);
    return source === undefined ? undefined : trackerKey(m.package.ecosystem, source);
  };
  const wanted = matches.filter((m) => sourceRank(m.severitySource) > DISTRIBUTION_RANK && keyOf(m));
  if (wanted.length === 0) return matches;
  const keys = [...new Set(wanted.map((m) => keyOf(m)!))];
  const lookup = await db.preload(keys.map((name) => ({ ecosystem: DEBIAN_TRACKER_ECOSYSTEM, name })));
  for (const m of wanted) {
    const ids = new Set(cvesOf(m));
    const best = lookup(DEBIAN_TRACKER_ECOSYSTEM, keyOf(m)!)
      .filter((e) => ids.has(e.id))
      .sort((a, b) => rank(a.severity) - rank(b.severity))[0];
    if (!best) continue;
    m.severity = best.severity;
    m.severitySource = "distribution";
  }
  return matches;
}

/**
 * A finding nothing else rates takes its CVE's rating from the CVE record itself (its CNA's CVSS,
 * else CISA-ADP's), as the DB's CVE feed holds it, else NVD's (the NVD feed); the highest when it
 * names several CVEs.
 */
export async function rateFromCveRecords(matches: Match[], db: DbHandle): Promise<Match[]> {
  for (const ecosystem of [CVE_ECOSYSTEM, NVD_ECOSYSTEM]) {
    const unrated = matches.filter((m) => m.severitySource === "none" || m.severity === "unknown");
    const wanted = [...new Set(unrated.flatMap(cvesOf))];
    if (wanted.length === 0) return matches;
    const lookup = await db.preload(wanted.map((name) => ({ ecosystem, name })));
    for (const m of unrated) {
      const best = cvesOf(m)
        .flatMap((id) => lookup(ecosystem, id))
        .sort((a, b) => rank(a.severity) - rank(b.severity))[0];
      if (!best) continue;
      m.severity = best.severity;
      m.severitySource = best.severitySource ?? (ecosystem === NVD_ECOSYSTEM ? "nvd" : "cve-cna");
      if (best.cvss && !m.cvss) m.cvss = best.cvss;
    }
  }
  return matches;
}
