import { apk } from "./apk.js";
import { cran } from "./cran.js";
import { dpkg } from "./dpkg.js";
import { hackage } from "./hackage.js";
import { maven } from "./maven.js";
import { nuget } from "./nuget.js";
import { packagist } from "./packagist.js";
import { pep440 } from "./pep440.js";
import { pub } from "./pub.js";
import { rpm } from "./rpm.js";
import { rubygems } from "./rubygems.js";
import { semver } from "./semver.js";
import type { Versioning } from "./versioning.js";
import { windows } from "./windows.js";

export type { Versioning } from "./versioning.js";

/** Every version scheme, keyed by its id. */
export const versionings: ReadonlyMap<string, Versioning> = new Map(
  [dpkg, apk, rpm, semver, pep440, maven, nuget, rubygems, windows, packagist, cran, pub, hackage].map(
    (v) => [v.id, v],
  ),
);

const byEcosystem = new Map<string, Versioning>();
for (const v of versionings.values()) for (const e of v.ecosystems) byEcosystem.set(e.toLowerCase(), v);

/**
 * The version scheme of an OSV ecosystem name, release suffix and all (`Debian:12`, `Alpine:v3.20`,
 * `Red Hat:enterprise_linux:9`, `npm`); undefined when portcullis has no scheme for it.
 */
export function versioningFor(ecosystem: string): Versioning | undefined {
  const colon = ecosystem.indexOf(":");
  const base = (colon < 0 ? ecosystem : ecosystem.slice(0, colon)).trim().toLowerCase();
  return byEcosystem.get(base);
}
