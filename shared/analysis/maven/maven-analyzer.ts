import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { JAVA_ARCHIVE, readJavaArchive } from "./java-archive.js";
import { excerpt } from "../excerpt.js";

/** `pkg:maven/<group>/<artifact>@<version>`, in the `Maven` ecosystem. */
export const identifyMavenPackage = languageIdentity({
  type: "maven",
  ecosystem: "Maven",
  namespace: "colon",
});

/**
 * Maven artifacts in Java archives (jar, war, ear, Jenkins jpi/hpi) anywhere in the image, nested
 * archives included within `DEFAULT_ARCHIVE_LIMITS`; named `group:artifact` as OSV's Maven ecosystem.
 */
export const mavenAnalyzer: Analyzer = {
  name: "maven",
  version: 1,
  maxFileSize: 512 * 1024 * 1024,
  extensions: ["jar", "war", "ear", "jpi", "hpi"],
  required: (path) => JAVA_ARCHIVE.test(path),
  analyze: ({ path, content }) => analyzeArchive(path, content),
  // a jar is read from its tail and a few entries: the walk's chunks spare a copy of the whole file
  analyzeChunks: ({ path, chunks }) => analyzeArchive(path, new ChunkedBytes(chunks)),
  identify: identifyMavenPackage,
};

async function analyzeArchive(path: string, content: Buffer | ChunkedBytes): Promise<AnalyzerOutput> {
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
}
