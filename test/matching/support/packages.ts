import type { Package } from "../../../shared/model/inventory.js";

/** An installed package as the inventory would report it. */
export function pkg(
  ecosystem: string,
  name: string,
  version: string,
  source?: { name: string; version: string },
): Package {
  const type = ecosystem.startsWith("Debian")
    ? "deb"
    : ecosystem.startsWith("Alpine")
      ? "apk"
      : (
          { npm: "npm", PyPI: "pypi", Go: "golang", NuGet: "nuget", Maven: "maven" } as Record<string, string>
        )[ecosystem];
  return {
    name,
    version,
    ecosystem,
    purl: `pkg:${type ?? "generic"}/${encodeURIComponent(name)}@${encodeURIComponent(version)}`,
    ...(source ? { source } : {}),
    layer: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    paths: [],
  };
}
