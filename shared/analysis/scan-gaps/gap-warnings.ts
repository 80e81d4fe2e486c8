import type { OsInfo, ScanWarning } from "../../model/inventory.js";
import type { Analyzer } from "../analyzer.js";
import { distributionEcosystem } from "../os/osv-ecosystem.js";
import { UNREAD_PACKAGE_DB } from "./package-db-presence.js";

/** Families whose advisories come from a feed of their own (MSRC), not from an OSV distribution. */
const OWN_FEED_FAMILIES = new Set(["windows"]);

/**
 * What the image holds that no analyzer reads or no advisory source covers: each is a warning
 * whose code `isUnscannable` knows, so the verdict says the image was not fully scanned.
 */
export function gapWarnings(
  os: OsInfo | undefined,
  facts: Record<string, unknown>,
  analyzers: readonly Analyzer[],
): ScanWarning[] {
  const warnings: ScanWarning[] = [];
  const sightings = (facts[UNREAD_PACKAGE_DB] ?? []) as { path: string; format: string }[];
  // asked again of today's set (a cached layer may predate a reader); the content engine, which takes every file, does not count
  const unread = analyzers.find((a) => a.name === UNREAD_PACKAGE_DB);
  for (const { path, format } of sightings) {
    if (unread !== undefined && !unread.required(path)) continue;
    warnings.push({
      code: "package-db-unread",
      message: `/${path} is an ${format} package database portcullis has no reader for: its packages were not checked`,
      path,
    });
  }
  if (os !== undefined && !OWN_FEED_FAMILIES.has(os.family) && distributionEcosystem(os) === undefined) {
    const name = os.name ?? `${os.family} ${os.version}`.trim();
    warnings.push({
      code: "distribution-unsupported",
      message: `${name} (ID=${os.family}${os.version ? `, VERSION_ID=${os.version}` : ""}) is not a distribution release OSV publishes advisories for: its OS packages were not matched`,
    });
  }
  return warnings;
}
