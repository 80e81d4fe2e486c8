import type { Inventory } from "../../shared/model/report.js";
import type { PolicyMatch } from "../../shared/policy/tier.js";

export const BASE_LAYER = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
export const APP_LAYER = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
export const IMAGE_DIGEST = "sha256:9999999999999999999999999999999999999999999999999999999999999999";

const PURL_TYPE: Record<string, string> = {
  Debian: "deb/debian",
  Alpine: "apk/alpine",
  npm: "npm",
  PyPI: "pypi",
};

/** A matcher output as the policy receives it; defaults describe a Debian package in the app layer. */
export function match(
  overrides: Partial<PolicyMatch> & { name?: string; version?: string; ecosystem?: string } = {},
) {
  const { name = "openssl", version = "3.0.11-1~deb12u2", ecosystem = "Debian:12", ...rest } = overrides;
  const type = PURL_TYPE[ecosystem.split(":")[0]!] ?? "generic";
  const m: PolicyMatch = {
    id: "CVE-2024-0001",
    aliases: [],
    package: { name, version, ecosystem, purl: `pkg:${type}/${name}@${version}` },
    fixedVersion: "3.0.13-1~deb12u1",
    severity: "high",
    layer: APP_LAYER,
    ...rest,
  };
  return m;
}

export function inventory(overrides: Partial<Inventory["image"]> = {}): Inventory {
  return {
    schemaVersion: 1,
    image: {
      ref: "registry.example.com/team-a/api:1.4",
      registry: "registry.example.com",
      repository: "team-a/api",
      digest: IMAGE_DIGEST,
      tags: ["1.4"],
      platform: { os: "linux", architecture: "amd64" },
      os: { family: "debian", version: "12.7", name: "Debian GNU/Linux 12 (bookworm)" },
      ...overrides,
    },
    layers: [BASE_LAYER, APP_LAYER],
    analyzerSet: "test",
    packages: [
      {
        name: "openssl",
        version: "3.0.11-1~deb12u2",
        ecosystem: "Debian:12",
        purl: "pkg:deb/debian/openssl@3.0.11-1~deb12u2",
        layer: APP_LAYER,
        paths: ["var/lib/dpkg/status"],
      },
    ],
    warnings: [],
  };
}
