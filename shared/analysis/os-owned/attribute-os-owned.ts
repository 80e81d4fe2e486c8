import type { Package } from "../../model/inventory.js";
import type { OsOwnedFact } from "./os-owned-analyzer.js";
import { ownedPath } from "./owned-path.js";

// the purl types the language analyzers name their packages with (package-identity.ts)
const LANGUAGE_TYPES = new Set(["npm", "pypi", "maven", "golang", "nuget", "gem", "cargo", "composer"]);

const purlType = (purl: string) => purl.slice(4, purl.indexOf("/"));

/**
 * Marks each language package whose files an OS package installed with that package (`installedBy`),
 * as Trivy attributes them; a package found both in an OS package's files and elsewhere is split, so
 * the copy nobody's package manager owns keeps being matched as a language package.
 */
export function attributeOsOwned(packages: readonly Package[], fact: OsOwnedFact | undefined): Package[] {
  if (!fact) return [...packages];
  const osPackages = new Map<string, Package>();
  for (const p of packages) {
    const type = purlType(p.purl);
    if (type === "deb" || type === "rpm" || type === "apk") osPackages.set(`${type}\u0000${p.name}`, p);
  }
  const out: Package[] = [];
  for (const pkg of packages) {
    if (!LANGUAGE_TYPES.has(purlType(pkg.purl))) {
      out.push(pkg);
      continue;
    }
    const byOwner = new Map<string, string[]>();
    const unowned: string[] = [];
    for (const path of pkg.paths) {
      const owner = fact.files[ownedPath(path)];
      if (!owner) {
        unowned.push(path);
        continue;
      }
      const key = `${owner.manager}\u0000${owner.name}`;
      byOwner.set(key, [...(byOwner.get(key) ?? []), path]);
    }
    if (byOwner.size === 0) {
      out.push(pkg);
      continue;
    }
    if (unowned.length > 0) out.push({ ...pkg, paths: unowned });
    for (const [key, paths] of byOwner) {
      const name = key.slice(key.indexOf("\u0000") + 1);
      const os = osPackages.get(key);
      out.push({
        ...pkg,
        paths,
        installedBy: os ? { name, version: os.version, purl: os.purl } : { name },
      });
    }
  }
  return out;
}
