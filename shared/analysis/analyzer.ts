import { z } from "zod";
import { OsInfoSchema, type OsInfo, type Package, WarningSchema } from "../model/inventory.js";
import type { MisconfigurationMatch } from "../model/report.js";

/** A package as an analyzer sees it in one file, before the image's OS names its ecosystem. */
export const PackageRecordSchema = z.object({
  /** the package manager that recorded it: "dpkg", "apk", "windows-program", "dotnet-runtime", … */
  kind: z.string(),
  name: z.string(),
  version: z.string(),
  source: z.object({ name: z.string(), version: z.string() }).optional(),
  arch: z.string().optional(),
  /** set when the analyzer knows the ecosystem itself (npm, NuGet, Windows …) */
  ecosystem: z.string().optional(),
  /** a development dependency (lockfiles that say so): listed, matched only when the policy asks */
  dev: z.boolean().optional(),
});
export type PackageRecord = z.infer<typeof PackageRecordSchema>;

/** A file handed to an analyzer: a name inside the layer (no leading slash), never a place on disk. */
export interface AnalyzerFile {
  path: string;
  content: Buffer;
  /** the layer's digest, for an engine that keeps state over one layer's walk (`settle` ends it) */
  layer?: string;
}

/** A file as the layer walk read it: its chunks in order, never joined (`Analyzer.analyzeChunks`). */
export interface ChunkedAnalyzerFile {
  path: string;
  chunks: readonly Buffer[];
  /** the layer's digest, as `AnalyzerFile.layer` */
  layer?: string;
}

export const AnalyzerWarningSchema = WarningSchema.omit({ layer: true });
export type AnalyzerWarning = z.infer<typeof AnalyzerWarningSchema>;

export const AnalyzerOutputSchema = z.object({
  packages: z.array(PackageRecordSchema).optional(),
  os: OsInfoSchema.optional(),
  /** analyzer-specific facts kept in the LayerReport (e.g. registry values read from a hive delta) */
  data: z.unknown().optional(),
  warnings: z.array(AnalyzerWarningSchema).optional(),
});
export type AnalyzerOutput = z.infer<typeof AnalyzerOutputSchema>;

/** One file's `data`, as the squash hook sees it: every layer's, base first. */
export interface LayerData {
  layer: string;
  path: string;
  data: unknown;
  /** false when a later layer replaced or deleted the file (deltas may still want it) */
  survives: boolean;
}

/** What the squash step needs to name a package: the OSV ecosystem and the purl. */
export interface PackageIdentity {
  ecosystem: string;
  purl: string;
}

/** What an image-level inventory hook knows beyond its squashed fact: the image config and unanalysed layers. */
export interface InventoryContext {
  /** the image config's `os` ("linux", "windows") */
  os?: string;
  /** the image config's `os.version` (Windows: 10.0.<build>.<UBR>) */
  osVersion?: string;
  /** layers that were not analysed (foreign base layers), base first, with their URLs */
  skippedLayers: readonly { digest: string; mediaType: string; urls?: string[] }[];
}

/** A package an inventory hook adds, already attributed to a layer. */
export type ImagePackageRecord = PackageRecord & { layer: string; paths: string[] };

/** What an inventory hook adds to the image: its OS (when no release file names one), packages, warnings. */
export interface ImageInventoryOutput {
  os?: OsInfo;
  packages: ImagePackageRecord[];
  warnings: AnalyzerWarning[];
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
  /**
   * Every name ending `required` can say yes to (`nameExtension`: after the base name's last dot,
   * lower-cased, "" for none): the walk asks it only of such paths. Omitted: asked of every path.
   */
  readonly extensions?: readonly string[];
  /**
   * true for an engine that reads every file (content): a symlink is not a database it must follow,
   * and a hardlink gets its target's result under its own name (the walk keeps no bytes for it);
   * its `content` may be a buffer the walk reuses for the next file once `analyze` has settled
   */
  readonly readsEveryFile?: boolean;
  /** the rule set it runs beyond its own code (YARA: shipped version + user rules' digest), in the cache key */
  readonly ruleSet?: string;
  analyze(file: AnalyzerFile): AnalyzerOutput | Promise<AnalyzerOutput>;
  /**
   * For an analyzer that finishes its outputs off the walk (the content engine's digest thread):
   * resolves once every output it returned so far is complete; the layer report waits for it.
   */
  settle?(layer: string): Promise<void>;
  /**
   * `analyze` for a reader that needs only parts of a large file (a jar's directory and a few
   * entries): the walk hands it the chunks it read instead of a joined copy. It answers exactly as
   * `analyze` does on the joined bytes, and keeps no chunk: the inflater reuses them once it has settled.
   */
  analyzeChunks?(file: ChunkedAnalyzerFile): AnalyzerOutput | Promise<AnalyzerOutput>;
  /**
   * Names a package this analyzer found, once the image's OS is known (dpkg → "Debian:12").
   * Without it, the record's own `ecosystem` and a generic purl are used.
   */
  identify?(record: PackageRecord, os: OsInfo | undefined): PackageIdentity;
  /**
   * Merges this analyzer's per-layer `data` into one image fact, stored as `Inventory.facts[name]`.
   * Without it, the fact is the list of surviving files' data.
   */
  squash?(layers: readonly LayerData[]): unknown;
  /**
   * Turns this analyzer's image fact (undefined when no layer gave data) into image-level OS and
   * packages, with the image config as context (Windows: OS from the overlaid hive deltas).
   */
  inventory?(fact: unknown, context: InventoryContext): ImageInventoryOutput;
  /**
   * Revises the image's squashed packages in place with this analyzer's image fact (npm: an installed
   * tree's dev dependencies, which only its hidden lockfile knows); runs after every `inventory` hook.
   */
  annotate?(packages: Package[], fact: unknown): void;
  /**
   * Sees every regular file's header without its content (the configuration audit's setuid check):
   * what it returns is stored like an `analyze` result for that path. Must be cheap: it runs per entry.
   */
  inspect?(entry: AnalyzerEntry): AnalyzerOutput | undefined;
  /**
   * The configuration audit over this analyzer's image fact (undefined when no layer gave data), with
   * a warning for each check it could not make.
   */
  audit?(fact: unknown, context: InventoryContext): AuditOutput;
}

/** An audit's findings, and what it could not check (never a silent pass). */
export interface AuditOutput {
  misconfigurations: MisconfigurationMatch[];
  warnings: AnalyzerWarning[];
}

/** A tar entry's header as `inspect` sees it. */
export interface AnalyzerEntry {
  path: string;
  /** permission bits with setuid (0o4000), setgid (0o2000) and sticky */
  mode: number;
  size: number;
}
