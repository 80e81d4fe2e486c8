import { PackageURL } from "packageurl-js";
import type { PackageIdentity, PackageRecord } from "./analyzer.js";

/** How one language ecosystem names its packages: purl type, OSV ecosystem, and where a name's namespace ends. */
export interface PurlScheme {
  /** purl type: "npm", "pypi", "maven", "golang" … */
  type: string;
  /** OSV ecosystem: "npm", "PyPI", "Maven", "Go" … */
  ecosystem: string;
  /** the separator between namespace and name (`@scope/x`, `group:artifact`, `vendor/x`); none when absent */
  namespace?: "first-slash" | "last-slash" | "colon";
  /** the version as the purl writes it, when it differs from the record's (Go's stdlib takes a "v") */
  purlVersion?: (record: PackageRecord) => string;
}

function splitName(name: string, how: PurlScheme["namespace"]): { namespace?: string; name: string } {
  const at =
    how === "first-slash"
      ? name.indexOf("/")
      : how === "last-slash"
        ? name.lastIndexOf("/")
        : how === "colon"
          ? name.indexOf(":")
          : -1;
  return at > 0 ? { namespace: name.slice(0, at), name: name.slice(at + 1) } : { name };
}

/** The `identify` hook of a language analyzer: its OSV ecosystem and `pkg:<type>/<namespace>/<name>@<version>`. */
export function languageIdentity(scheme: PurlScheme): (record: PackageRecord) => PackageIdentity {
  return (record) => {
    const { namespace, name } = splitName(record.name, scheme.namespace);
    const version = scheme.purlVersion?.(record) ?? record.version;
    const purl = new PackageURL(scheme.type, namespace, name, version, undefined, undefined).toString();
    return { ecosystem: scheme.ecosystem, purl };
  };
}
