import { ScanError } from "../model/errors.js";
import { type Descriptor, formatPlatform, type Platform } from "../model/image.js";
import type { PlatformSelector } from "./image-source.js";
import { MediaType } from "./media-types.js";

/** BuildKit's provenance/SBOM manifests and other in-toto attestations are not images to scan. */
export function isAttestationManifest(descriptor: Descriptor): boolean {
  const annotations = descriptor.annotations ?? {};
  if (annotations["vnd.docker.reference.type"] === "attestation-manifest") return true;
  if (descriptor.mediaType === MediaType.inToto) return true;
  const platform = descriptor.platform;
  return platform?.os === "unknown" && platform.architecture === "unknown";
}

const DEFAULT_VARIANT: Record<string, string> = { arm64: "v8" };

/** Windows builds match by prefix at a dot: "10.0.17763" selects "10.0.17763.5936". */
export function osVersionMatches(actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  return actual === wanted || actual.startsWith(`${wanted}.`);
}

export function platformMatches(
  platform: Platform,
  selector: Exclude<PlatformSelector, undefined | "all">,
): boolean {
  if (platform.os !== selector.os || platform.architecture !== selector.architecture) return false;
  if (selector.variant !== undefined) {
    const variant = platform.variant ?? DEFAULT_VARIANT[platform.architecture];
    if (variant !== selector.variant) return false;
  }
  return selector.osVersion === undefined || osVersionMatches(platform["os.version"], selector.osVersion);
}

export const isLinuxAmd64 = (p: Platform): boolean => p.os === "linux" && p.architecture === "amd64";

/**
 * Applies a selector to the platforms an index offers: default = linux/amd64 when present, else all;
 * an explicit os/arch that matches nothing is an error naming what the image does have.
 */
export function selectPlatforms<T>(
  items: T[],
  platformOf: (item: T) => Platform,
  selector: PlatformSelector,
  what: string,
): T[] {
  if (selector === "all") return items;
  if (selector === undefined) {
    const amd64 = items.filter((item) => isLinuxAmd64(platformOf(item)));
    return amd64.length > 0 ? amd64 : items;
  }
  const chosen = items.filter((item) => platformMatches(platformOf(item), selector));
  if (chosen.length === 0) throw platformNotFound(what, selector, items.map(platformOf));
  return chosen;
}

export function platformNotFound(
  what: string,
  selector: Exclude<PlatformSelector, undefined | "all">,
  offered: Platform[],
): ScanError {
  const list = [...new Set(offered.map(describePlatform))].join(", ") || "none";
  return new ScanError(
    "platform-not-found",
    `${what} has no image for platform ${describeSelector(selector)} (it has: ${list})`,
  );
}

function describePlatform(p: Platform): string {
  return p["os.version"] ? `${formatPlatform(p)} (${p["os.version"]})` : formatPlatform(p);
}

function describeSelector(s: Exclude<PlatformSelector, undefined | "all">): string {
  const base = [s.os, s.architecture, s.variant].filter(Boolean).join("/");
  return s.osVersion ? `${base} (os.version ${s.osVersion}*)` : base;
}

/**
 * Reads `--platform`: "all", "os/arch[/variant]", optionally with a Windows build as
 * "windows/amd64:10.0.17763" or containerd's "windows(10.0.17763)/amd64".
 */
export function parsePlatformSelector(text: string | undefined): PlatformSelector {
  if (text === undefined || text === "") return undefined;
  if (text === "all") return "all";
  let spec = text;
  let osVersion: string | undefined;
  const containerd = /^([a-z0-9]+)\(([0-9.]+)\)(\/.*)$/i.exec(spec);
  if (containerd) {
    spec = `${containerd[1]}${containerd[3]}`;
    osVersion = containerd[2];
  } else {
    const colon = spec.indexOf(":");
    if (colon >= 0) {
      osVersion = spec.slice(colon + 1);
      spec = spec.slice(0, colon);
    }
  }
  const parts = spec.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/i.test(p))) {
    throw new ScanError(
      "invalid-platform",
      `invalid platform "${text}": expected os/arch[/variant] or "all"`,
    );
  }
  if (osVersion !== undefined && !/^[0-9]+(\.[0-9]+)*$/.test(osVersion)) {
    throw new ScanError("invalid-platform", `invalid platform "${text}": os.version must be dotted numbers`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  const selector: Exclude<PlatformSelector, undefined | "all"> = {
    os: os.toLowerCase(),
    architecture: architecture.toLowerCase(),
  };
  if (variant) selector.variant = variant.toLowerCase();
  if (osVersion) selector.osVersion = osVersion;
  return selector;
}
