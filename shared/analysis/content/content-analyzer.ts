import { createHash } from "node:crypto";
import type { Analyzer, AnalyzerOutput } from "../analyzer.js";
import type { ClamdClient } from "./clamd-client.js";
import type { ContentData } from "./content-data.js";
import { contentFindings } from "./content-findings.js";
import { DPKG_STATUS, md5sumsPackage, parseMd5sums, parseStatusForIntegrity } from "./dpkg-records.js";
import { findMalware, worthScanning } from "./malware-rules.js";
import { findSecrets } from "./secret-rules.js";
import { isPersistenceHive, readHivePersistence } from "./hive-persistence.js";
import { analyzePe, isPe } from "./pe-analysis.js";
import { CORE_SYSTEM_FILE, fileVersion } from "./windows-build-check.js";
import { MAX_YARA_EXECUTABLE_BYTES, type YaraEngine, yaraScans } from "./yara-engine.js";

/**
 * Bumped whenever a rule, a persistence place or an integrity check changes: it feeds the layer
 * cache key, so cached layers are re-scanned lazily with the new rules.
 */
export const CONTENT_RULES_VERSION = 3;

/** Largest file sent to clamd (its own StreamMaxLength defaults to 25 MB in Debian's config). */
export const MAX_CLAMD_BYTES = 25 * 1024 * 1024;

// pseudo-filesystems and Windows layers' utility VM are not read here
const SKIPPED = /^(?:proc|sys|dev)\/|^UtilityVM\//;

export interface ContentAnalyzerOptions {
  /** the second engine; without it every finding comes from the portcullis engine alone */
  clamd?: ClamdClient;
  /** the portcullis engine's YARA rules (shipped and the user's) */
  yara?: YaraEngine;
}

/**
 * The content engine's per-layer half: every regular file's MD5 and SHA-256 (for the dpkg integrity
 * cross-check and the findings' evidence), secret and malware rule hits, clamd's verdict on
 * executables and scripts, and the dpkg database records that the image-level half
 * (`contentFindings`) checks the files against.
 */
export function createContentAnalyzer(options: ContentAnalyzerOptions = {}): Analyzer {
  const { clamd, yara } = options;
  return {
    name: "content",
    version: CONTENT_RULES_VERSION,
    maxFileSize: 64 * 1024 * 1024,
    readsEveryFile: true,
    ...(yara ? { ruleSet: `yara:${yara.version}` } : {}),
    // an empty, climbing or NUL-bearing name is no file of the image
    required: (path) => path !== "" && !SKIPPED.test(path) && !/(?:^|\/)\.\.(?:\/|$)|\0/.test(path),
    async analyze({ path, content }): Promise<AnalyzerOutput> {
      const file = fileData(content);
      const yaraHits = yara !== undefined && yaraScans(path, content) ? yara.scan(content) : [];
      if (yaraHits.length > 0) file.yara = yaraHits;
      if (isPe(content) && content.length <= MAX_YARA_EXECUTABLE_BYTES) {
        const pe = analyzePe(path, content);
        if ("error" in pe) file.peError = pe.error;
        else if (pe.signals.length > 0) file.pe = pe.signals;
        const version = CORE_SYSTEM_FILE.test(path) ? fileVersion(content) : undefined;
        if (version !== undefined) file.fileVersion = version;
      }
      if (clamd && content.length <= MAX_CLAMD_BYTES && worthScanning(path, content)) {
        try {
          const verdict = await clamd.scan(content);
          if (verdict.infected) file.clamav = { signature: verdict.signature };
        } catch (err) {
          file.clamav = { error: (err as Error).message };
        }
      }
      const data: ContentData[] = [file];
      const pkg = md5sumsPackage(path);
      if (pkg !== undefined) data.push(parseMd5sums(pkg, content.toString("utf8")));
      if (path === DPKG_STATUS) data.push(parseStatusForIntegrity(content));
      if (isPersistenceHive(path)) {
        const hive = readHivePersistence(path, content);
        if ("error" in hive)
          return { data, warnings: [{ code: "content-hive-unreadable", message: hive.error, path }] };
        data.push({ kind: "hive-persistence", entries: hive.entries });
      }
      return { data };
    },
    squash: contentFindings,
  };
}

/** Names clamd in the analyzer set, so turning it on or off makes cached layer reports miss. */
export const clamavMarker: Analyzer = {
  name: "clamav",
  version: 1,
  maxFileSize: 0,
  required: () => false,
  analyze: () => ({}),
};

function fileData(content: Buffer): Extract<ContentData, { kind: "file" }> {
  const secrets = findSecrets(content);
  const malware = findMalware(content);
  return {
    kind: "file",
    md5: createHash("md5").update(content).digest("hex"),
    sha256: createHash("sha256").update(content).digest("hex"),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(malware.length > 0 ? { malware } : {}),
  };
}
