import { createHash } from "node:crypto";
import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import type { ContentData } from "./content-data.js";
import { contentFindings } from "./content-findings.js";
import { DPKG_STATUS, md5sumsPackage, parseMd5sums, parseStatusForIntegrity } from "./dpkg-records.js";
import { findSecrets } from "./secret-rules.js";

/**
 * Bumped whenever a rule, a persistence place or an integrity check changes: it feeds the layer
 * cache key, so cached layers are re-scanned lazily with the new rules.
 */
export const CONTENT_RULES_VERSION = 1;

// pseudo-filesystems and Windows layers' own roots (Files/, Hives/) are not read here
const SKIPPED = /^(?:proc|sys|dev)\/|^(?:Files|Hives|UtilityVM)\//;

/**
 * The content engine's per-layer half: every regular file's MD5 and SHA-256 (for the dpkg integrity
 * cross-check and the findings' evidence), secret-rule hits in text files, and the dpkg database
 * records that the image-level half (`contentFindings`) checks the files against.
 */
export const contentAnalyzer: Analyzer = {
  name: "content",
  version: CONTENT_RULES_VERSION,
  maxFileSize: 64 * 1024 * 1024,
  required: (path) => !SKIPPED.test(path),
  analyze({ path, content }): AnalyzerOutput {
    const data: ContentData[] = [fileData(content)];
    const pkg = md5sumsPackage(path);
    if (pkg !== undefined) data.push(parseMd5sums(pkg, content.toString("utf8")));
    if (path === DPKG_STATUS) data.push(parseStatusForIntegrity(content.toString("utf8")));
    return { data };
  },
  squash: contentFindings,
};

function fileData(content: Buffer): ContentData {
  const secrets = findSecrets(content);
  return {
    kind: "file",
    md5: createHash("md5").update(content).digest("hex"),
    sha256: createHash("sha256").update(content).digest("hex"),
    ...(secrets.length > 0 ? { secrets } : {}),
  };
}
