import type { OsInfo, ScanWarning } from "../model/inventory.js";

/** A package as an analyzer sees it in one file, before the image's OS names its ecosystem. */
export interface PackageRecord {
  /** the package manager that recorded it: "dpkg", "apk", "windows-program", "dotnet-runtime", … */
  kind: string;
  name: string;
  version: string;
  source?: { name: string; version: string };
  arch?: string;
  /** set when the analyzer knows the ecosystem itself (npm, NuGet, Windows …) */
  ecosystem?: string;
}

/** A file handed to an analyzer: a name inside the layer (no leading slash), never a place on disk. */
export interface AnalyzerFile {
  path: string;
  content: Buffer;
}

export interface AnalyzerOutput {
  packages?: PackageRecord[];
  os?: OsInfo;
  /** analyzer-specific facts kept in the LayerReport (e.g. registry values read from a hive delta) */
  data?: unknown;
  warnings?: Omit<ScanWarning, "layer">[];
}

/**
 * Trivy's analyzer idea: each analyzer names the paths it needs, reads only those (bounded), and
 * carries a version that feeds the layer-cache key, so bumping one invalidates exactly its results.
 */
export interface Analyzer {
  readonly name: string;
  readonly version: number;
  /** largest file this analyzer will read into memory; bigger ones become a warning */
  readonly maxFileSize: number;
  /** `path` has no leading slash: "var/lib/dpkg/status", "Files/Windows/…", "Hives/Software_Delta" */
  required(path: string): boolean;
  analyze(file: AnalyzerFile): AnalyzerOutput | Promise<AnalyzerOutput>;
}
