import { PackageURL } from "packageurl-js";
import type { OsInfo, Package, ScanWarning } from "../model/inventory.js";
import type {
  Analyzer,
  ImagePackageRecord,
  InventoryContext,
  LayerData,
  PackageIdentity,
  PackageRecord,
} from "./analyzer.js";
import type { FileResult, LayerReport, LinkEntry } from "./layer-report.js";
import { resolveOs } from "./os/resolve-os.js";
import { followSymlinkedFiles } from "./symlinked-files.js";
import { WarningCap } from "./warning-cap.js";

export interface SquashOptions {
  /** the analyzers the reports were made with: their `identify` and `squash` hooks are used */
  analyzers: readonly Analyzer[];
  /** the image config and skipped layers, for the analyzers' `inventory` hooks */
  context?: InventoryContext;
}

export interface SquashResult {
  os?: OsInfo;
  packages: Package[];
  facts: Record<string, unknown>;
  warnings: ScanWarning[];
}

/** What the merged filesystem holds at one analysed path: the layer that last wrote it, and what it said. */
interface PathState {
  layer: string;
  /** position in the image, base 0: the same blob may appear twice */
  index: number;
  results: FileResult[];
  /** set when the path is a link, so a symlinked package database can be followed */
  link?: LinkEntry;
}

/**
 * Squashes layer reports (base first) the way the image's filesystem is merged: a later layer's
 * file or link replaces an earlier one at the same path, whiteouts and opaque directories remove
 * what lower layers had. Packages come from the package databases that survive, each attributed
 * to the layer from which it has been present without interruption.
 */
export function squashLayers(reports: readonly LayerReport[], options: SquashOptions): SquashResult {
  const byName = new Map(options.analyzers.map((a) => [a.name, a]));
  const state = new Map<string, PathState>();
  const introduced = new Map<string, string>();
  const dataSeen: SeenData[] = [];
  // reports cached before warnings were capped may carry any number: cap them again here
  const warnings = new WarningCap();

  for (const [index, report] of reports.entries()) {
    warnings.addAll(report.warnings);
    for (const path of report.whiteouts) removeTree(state, path, true);
    for (const dir of report.opaqueDirs) removeTree(state, dir, false);
    for (const link of report.links) state.set(link.path, { layer: report.digest, index, results: [], link });
    for (const result of report.files) {
      const current = state.get(result.path);
      if (current?.index === index) current.results.push(result);
      else state.set(result.path, { layer: report.digest, index, results: [result] });
      if (result.output.data !== undefined) {
        const { analyzer, path } = result;
        dataSeen.push({
          analyzer,
          index,
          layer: report.digest,
          path,
          data: result.output.data,
          survives: false,
        });
      }
    }
    // a package keeps the layer that introduced it only while some surviving database lists it
    const present = new Set(packageKeys(state));
    for (const key of introduced.keys()) if (!present.has(key)) introduced.delete(key);
    for (const key of present) if (!introduced.has(key)) introduced.set(key, report.digest);
  }

  warnings.addAll(followSymlinkedFiles(state, options.analyzers));
  const facts = squashFacts(state, dataSeen, byName);
  const hooked = imageInventories(facts, options);
  // a release file in the filesystem wins; images without one (Windows) get their OS from a hook
  const os = resolveOs(osFiles(state)) ?? hooked.os;
  const packages = finalPackages(state, introduced, os, byName);
  for (const p of hooked.packages(os)) packages.push(p);
  for (const analyzer of options.analyzers) analyzer.annotate?.(packages, facts[analyzer.name]);
  warnings.addAll(hooked.warnings);
  if (!os && packages.length > 0) {
    warnings.add({
      code: "os-unknown",
      message: "no OS release file survives in the image; package ecosystems lack a release",
    });
  }
  return { ...(os ? { os } : {}), packages: sortPackages(packages), facts, warnings: warnings.list() };
}

/** Runs every analyzer's `inventory` hook on its fact (or on nothing, so config-only fallbacks work). */
function imageInventories(
  facts: Record<string, unknown>,
  options: SquashOptions,
): { os?: OsInfo; packages(os: OsInfo | undefined): Package[]; warnings: ScanWarning[] } {
  const context: InventoryContext = options.context ?? { skippedLayers: [] };
  let os: OsInfo | undefined;
  const found: { analyzer: Analyzer; record: ImagePackageRecord }[] = [];
  const warnings: ScanWarning[] = [];
  for (const analyzer of options.analyzers) {
    if (!analyzer.inventory) continue;
    const out = analyzer.inventory(facts[analyzer.name], context);
    os ??= out.os;
    for (const record of out.packages) found.push({ analyzer, record });
    for (const w of out.warnings) warnings.push(w);
  }
  return {
    ...(os ? { os } : {}),
    packages: (finalOs) =>
      found.map(({ analyzer, record: { layer, paths, ...record } }) => {
        const { ecosystem, purl } = identify(analyzer, record, finalOs);
        return {
          name: record.name,
          version: record.version,
          ecosystem,
          purl,
          ...(record.source ? { source: record.source } : {}),
          layer,
          paths: [...paths].sort(),
          ...(record.arch ? { arch: record.arch } : {}),
          ...(record.dev ? { dev: true } : {}),
        };
      }),
    warnings,
  };
}

/** Removes `path` itself (when asked) and everything below it. */
function removeTree(state: Map<string, PathState>, path: string, self: boolean): void {
  const prefix = path === "" ? "" : `${path}/`;
  for (const key of [...state.keys()]) {
    if ((self && key === path) || key.startsWith(prefix)) state.delete(key);
  }
}

function recordKey(analyzer: string, r: PackageRecord): string {
  return [analyzer, r.kind, r.name, r.version, r.arch ?? ""].join("\u0000");
}

function* packageKeys(state: Map<string, PathState>): Iterable<string> {
  for (const { results } of state.values()) {
    for (const result of results)
      for (const r of result.output.packages ?? []) yield recordKey(result.analyzer, r);
  }
}

function osFiles(state: Map<string, PathState>): Map<string, OsInfo> {
  const found = new Map<string, OsInfo>();
  for (const [path, { results }] of state) {
    for (const result of results) if (result.output.os) found.set(path, result.output.os);
  }
  return found;
}

function finalPackages(
  state: Map<string, PathState>,
  introduced: Map<string, string>,
  os: OsInfo | undefined,
  analyzers: Map<string, Analyzer>,
): Package[] {
  const merged = new Map<string, Package>();
  for (const [path, { results }] of state) {
    for (const result of results) {
      for (const record of result.output.packages ?? []) {
        const key = recordKey(result.analyzer, record);
        const seen = merged.get(key);
        if (seen) {
          if (!seen.paths.includes(path)) seen.paths.push(path);
          // a production dependency anywhere is one
          if (seen.dev && !record.dev) delete seen.dev;
          continue;
        }
        const { ecosystem, purl } = identify(analyzers.get(result.analyzer), record, os);
        merged.set(key, {
          name: record.name,
          version: record.version,
          ecosystem,
          purl,
          ...(record.source ? { source: record.source } : {}),
          layer: introduced.get(key) ?? "",
          paths: [path],
          ...(record.arch ? { arch: record.arch } : {}),
          ...(record.dev ? { dev: true } : {}),
        });
      }
    }
  }
  const packages = [...merged.values()];
  for (const p of packages) p.paths.sort();
  return sortPackages(packages);
}

function sortPackages(packages: Package[]): Package[] {
  return packages.sort(
    (a, b) =>
      cmp(a.ecosystem, b.ecosystem) ||
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.arch, b.arch),
  );
}

const cmp = (a: string | undefined, b: string | undefined) =>
  (a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0;

function identify(
  analyzer: Analyzer | undefined,
  record: PackageRecord,
  os: OsInfo | undefined,
): PackageIdentity {
  if (analyzer?.identify) return analyzer.identify(record, os);
  // an analyzer without its own naming: the record's ecosystem and a generic purl
  const purl = new PackageURL(
    "generic",
    undefined,
    record.name,
    record.version,
    undefined,
    undefined,
  ).toString();
  return { ecosystem: record.ecosystem ?? record.kind, purl };
}

type SeenData = LayerData & { analyzer: string; index: number };

function squashFacts(
  state: Map<string, PathState>,
  seen: SeenData[],
  analyzers: Map<string, Analyzer>,
): Record<string, unknown> {
  const byAnalyzer = new Map<string, LayerData[]>();
  for (const { analyzer, index, ...entry } of seen) {
    entry.survives = state.get(entry.path)?.index === index;
    const list = byAnalyzer.get(analyzer) ?? [];
    list.push(entry);
    byAnalyzer.set(analyzer, list);
  }
  const facts: Record<string, unknown> = {};
  for (const [name, entries] of byAnalyzer) {
    const hook = analyzers.get(name)?.squash;
    const fact = hook
      ? hook(entries)
      : entries.filter((e) => e.survives).map(({ layer, path, data }) => ({ layer, path, data }));
    if (fact !== undefined) facts[name] = fact;
  }
  return facts;
}
