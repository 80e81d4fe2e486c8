import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import { osFromOsRelease } from "./os-release.js";

export const OS_RELEASE_PATHS = ["etc/os-release", "usr/lib/os-release"] as const;
export const DEBIAN_VERSION_PATH = "etc/debian_version";
export const ALPINE_RELEASE_PATH = "etc/alpine-release";

const PATHS = new Set<string>([...OS_RELEASE_PATHS, DEBIAN_VERSION_PATH, ALPINE_RELEASE_PATH]);

/** Reports what each OS-identifying file says; squash's resolveOs decides between them. */
export const osAnalyzer: Analyzer = {
  name: "os",
  version: 1,
  maxFileSize: 64 * 1024,
  required: (path) => PATHS.has(path),
  analyze({ path, content }): AnalyzerOutput {
    const text = content.toString("utf8");
    if (path === DEBIAN_VERSION_PATH) {
      const version = text.trim();
      return version ? { os: { family: "debian", version } } : {};
    }
    if (path === ALPINE_RELEASE_PATH) {
      const version = text.trim();
      return version ? { os: { family: "alpine", version } } : {};
    }
    const os = osFromOsRelease(text);
    if (os) return { os };
    return { warnings: [{ code: "os-release-unreadable", message: `${path} names no ID`, path }] };
  },
};
