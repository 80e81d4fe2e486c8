import { createHash } from "node:crypto";
import type { Analyzer } from "./analyzer.js";
import { apkAnalyzer } from "./apk/apk-analyzer.js";
import { auditAnalyzers } from "./audit/index.js";
import { cargoAnalyzer } from "./cargo/cargo-analyzer.js";
import { composerAnalyzer } from "./composer/composer-analyzer.js";
import { contentAnalyzers, pinClamdSignatures, readUserYaraRules } from "./content/index.js";
import { dpkgAnalyzer } from "./dpkg/dpkg-analyzer.js";
import { goAnalyzer } from "./go/go-analyzer.js";
import { mavenAnalyzer } from "./maven/maven-analyzer.js";
import { npmAnalyzer } from "./npm/npm-analyzer.js";
import { nugetAnalyzer } from "./nuget/nuget-analyzer.js";
import { osAnalyzer } from "./os/os-analyzer.js";
import { osOwnedFilesAnalyzer } from "./os-owned/os-owned-analyzer.js";
import { pypiAnalyzer } from "./pypi/pypi-analyzer.js";
import { rpmAnalyzer } from "./rpm/rpm-analyzer.js";
import { rubygemsAnalyzer } from "./rubygems/rubygems-analyzer.js";
import { unreadPackageDbAnalyzer } from "./scan-gaps/package-db-presence.js";
import { windowsAnalyzers } from "./windows/index.js";

/** The analyzers of language packages: an OS package that installs one of their files is named as its installer. */
const LANGUAGE_READERS: readonly Analyzer[] = [
  npmAnalyzer,
  pypiAnalyzer,
  mavenAnalyzer,
  goAnalyzer,
  nugetAnalyzer,
  rubygemsAnalyzer,
  composerAnalyzer,
  cargoAnalyzer,
];

/** Every analyzer that reads something from a layer, in one explicit list: add a new one here. */
const READERS: readonly Analyzer[] = [
  osAnalyzer,
  dpkgAnalyzer,
  apkAnalyzer,
  ...windowsAnalyzers,
  ...auditAnalyzers,
  rpmAnalyzer,
  ...LANGUAGE_READERS,
];

// reads the package databases for their file lists only: it must not count as their reader for scan-gaps/
const OS_OWNED: Analyzer = osOwnedFilesAnalyzer(LANGUAGE_READERS);

// the content engine hashes every file: it reads no package database, so it must not hide one from scan-gaps/
const CONTENT: readonly Analyzer[] = contentAnalyzers(process.env.PORTCULLIS_CLAMD);

/** Every analyzer a scan runs: the readers, then the one that notes package databases none of them reads (scan-gaps/). */
export const ANALYZERS: readonly Analyzer[] = [
  ...READERS,
  OS_OWNED,
  ...CONTENT,
  unreadPackageDbAnalyzer(READERS),
];

/**
 * The analyzer set with the user's YARA rule directories (portcullis.yaml `content.yaraRules`, already
 * absolute) in the content engine; the shipped set when there are none. A broken rule throws here.
 */
export function analyzersWithYaraRules(dirs: readonly string[]): readonly Analyzer[] {
  if (dirs.length === 0) return ANALYZERS;
  const content = contentAnalyzers(process.env.PORTCULLIS_CLAMD, readUserYaraRules(dirs));
  return [...READERS, OS_OWNED, ...content, unreadPackageDbAnalyzer(READERS)];
}

/**
 * What a host analyses with: the user's YARA rules joined (`analyzersWithYaraRules`) and clamd's
 * signature version asked once and put in the cache key (`pinClamdSignatures`). Hosts call it at
 * start, before the first layer key is computed, so every stage keys layers the same way.
 */
export async function hostAnalyzers(
  yaraRuleDirs: readonly string[],
  log?: (message: string) => void,
): Promise<readonly Analyzer[]> {
  return pinClamdSignatures(analyzersWithYaraRules(yaraRuleDirs), log);
}

/** Bumped when the layer walk itself changes what a LayerReport holds (whiteouts, links, limits). */
const LAYER_WALK_VERSION = 1;

/**
 * A short, stable name for a set of analyzers and their versions: the layer-cache key's second
 * half, so bumping any one analyzer (or the walk) makes every cached LayerReport miss.
 */
export function analyzerSetVersion(analyzers: readonly Analyzer[]): string {
  const parts = analyzers.map((a) => `${a.name}@${a.version}${a.ruleSet ? `+${a.ruleSet}` : ""}`).sort();
  const hash = createHash("sha256")
    .update(`walk@${LAYER_WALK_VERSION}\n${parts.join("\n")}`)
    .digest("hex");
  return `as1-${hash.slice(0, 20)}`;
}
