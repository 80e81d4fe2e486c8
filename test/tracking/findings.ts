import type { Finding, Severity } from "../../shared/model/report.js";
import type { Tier } from "../../shared/model/tier.js";

/** A report finding as the verdict stage stores it. */
export function finding(
  id: string,
  pkg: string,
  options: {
    severity?: Severity;
    tier?: Tier;
    fixed?: string;
    version?: string;
    suppressed?: Finding["suppressed"];
  } = {},
): Finding {
  const version = options.version ?? "1.0-1";
  return {
    id,
    aliases: [],
    package: { name: pkg, version, ecosystem: "Debian:12", purl: `pkg:deb/debian/${pkg}@${version}` },
    ...(options.fixed === undefined
      ? { fixedVersion: "1.0-2" }
      : options.fixed
        ? { fixedVersion: options.fixed }
        : {}),
    severity: options.severity ?? "high",
    layer: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
    tier: options.tier ?? "block",
    ...(options.suppressed ? { suppressed: options.suppressed } : {}),
  };
}
