import { PackageURL } from "packageurl-js";
import type { Analyzer, AnalyzerOutput, PackageIdentity, PackageRecord } from "../analyzer.js";
import { JAVA_ARCHIVE, readJavaArchive } from "./java-archive.js";
import { excerpt } from "../excerpt.js";

/**
 * Maven artifacts in Java archives (jar, war, ear, Jenkins jpi/hpi) anywhere in the image, nested
 * archives included within `DEFAULT_ARCHIVE_LIMITS`; named `group:artifact` as OSV's Maven ecosystem.
 */
export const mavenAnalyzer: Analyzer = {
  name: "maven",
  version: 1,
  maxFileSize: 512 * 1024 * 1024,
  required: (path) => JAVA_ARCHIVE.test(path),
  async analyze({ path, content }): Promise<AnalyzerOutput> {
    const read = await readJavaArchive(content, path);
    return {
      packages: read.packages.map(
        (c): PackageRecord => ({
          kind: "maven",
          name: `${c.groupId}:${c.artifactId}`,
          version: c.version,
          ecosystem: "Maven",
        }),
      ),
      warnings: read.problems.map((p) => ({ code: "maven-archive-unreadable", message: excerpt(p), path })),
    };
  },
  identify: identifyMavenPackage,
};

/** `pkg:maven/<group>/<artifact>@<version>`, in the `Maven` ecosystem. */
export function identifyMavenPackage(record: PackageRecord): PackageIdentity {
  const colon = record.name.indexOf(":");
  const group = colon > 0 ? record.name.slice(0, colon) : undefined;
  const artifact = record.name.slice(colon + 1);
  const purl = new PackageURL("maven", group, artifact, record.version, undefined, undefined).toString();
  return { ecosystem: "Maven", purl };
}
