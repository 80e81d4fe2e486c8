import pLimit from "p-limit";
import type { LayerRef, ResolvedImage } from "../model/image.js";
import type { ScanWarning } from "../model/inventory.js";
import { DEFAULT_LIMITS, type Limits } from "../model/limits.js";
import type { Inventory } from "../model/report.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { ImageSource } from "../registry/image-source.js";
import { isForeignLayerMediaType } from "../registry/media-types.js";
import { analyzeLayer } from "./analyze-layer.js";
import { auditImage } from "./audit/index.js";
import { gapWarnings } from "./scan-gaps/gap-warnings.js";
import { UNREAD_PACKAGE_DB } from "./scan-gaps/package-db-presence.js";
import type { Analyzer, InventoryContext } from "./analyzer.js";
import { loadLayerReport, storeLayerReport } from "./layer-cache.js";
import type { LayerReport } from "./layer-report.js";
import { attributeOsOwned } from "./os-owned/attribute-os-owned.js";
import { OS_OWNED_FILES, type OsOwnedFact } from "./os-owned/os-owned-analyzer.js";
import { ANALYZERS, analyzerSetVersion } from "./registry.js";
import { squashLayers } from "./squash.js";

export interface LayerEvent {
  kind: "started" | "cached" | "analyzed" | "skipped";
  layer: LayerRef;
  /** position in the image, base 0 */
  index: number;
  total: number;
}

export interface AnalyzeLayerCachedOptions {
  store: BlobStore;
  analyzers?: readonly Analyzer[];
  limits?: Limits;
}

/**
 * The per-layer step: the stored LayerReport for (digest, analyzer set) when there is one (no blob
 * is opened), else the blob streamed through analyzeLayer and the report stored.
 */
export async function analyzeLayerCached(
  source: ImageSource,
  layer: LayerRef,
  options: AnalyzeLayerCachedOptions,
): Promise<{ report: LayerReport; cached: boolean; warnings: ScanWarning[] }> {
  const analyzers = options.analyzers ?? ANALYZERS;
  const set = analyzerSetVersion(analyzers);
  const hit = await loadLayerReport(options.store, layer.digest, set);
  if (hit) return { report: hit, cached: true, warnings: [] };
  return { ...(await analyzeAndStoreLayer(source, layer, { ...options, analyzers })), cached: false };
}

/** The layer's blob streamed through analyzeLayer and its report stored, without looking in the cache first. */
export async function analyzeAndStoreLayer(
  source: ImageSource,
  layer: LayerRef,
  options: AnalyzeLayerCachedOptions,
): Promise<{ report: LayerReport; warnings: ScanWarning[] }> {
  const analyzers = options.analyzers ?? ANALYZERS;
  const blob = await source.openBlob(layer);
  const report = await analyzeLayer(blob, layer, { analyzers, limits: options.limits ?? DEFAULT_LIMITS });
  const warnings: ScanWarning[] = [];
  try {
    await storeLayerReport(options.store, report);
  } catch (err) {
    // a cache that cannot be written costs a re-download next time, not this scan
    warnings.push({
      code: "layer-cache-write-failed",
      message: `could not store the layer report: ${(err as Error).message}`,
      layer: layer.digest,
    });
  }
  return { report, warnings };
}

export interface InventoryImageOptions extends AnalyzeLayerCachedOptions {
  onLayer?: (event: LayerEvent) => void;
  /** analyse foreign / non-distributable layers (Windows base layers) instead of skipping them */
  allowForeignLayers?: boolean;
  /** layers analysed at the same time */
  concurrency?: number;
}

/** Foreign (Docker) and non-distributable (OCI) layers: their owners ask that they not be pulled. */
export const isForeignLayer = (layer: LayerRef): boolean => isForeignLayerMediaType(layer.mediaType);

export const foreignLayerSkipped = (layer: LayerRef): ScanWarning => ({
  code: "foreign-layer-skipped",
  message: `layer ${layer.digest} is foreign/non-distributable (${layer.mediaType}); not analysed`,
  layer: layer.digest,
});

/** Every layer of one platform image analysed (or taken from the cache) and squashed into its Inventory. */
export async function inventoryImage(
  source: ImageSource,
  image: ResolvedImage,
  options: InventoryImageOptions,
): Promise<Inventory> {
  const analyzers = options.analyzers ?? ANALYZERS;
  const total = image.layers.length;
  const reports: (LayerReport | undefined)[] = new Array(total);
  // per layer, so the inventory's warnings come out in layer order whatever finished first
  const warnings: ScanWarning[][] = image.layers.map(() => []);
  const emit = (kind: LayerEvent["kind"], index: number) =>
    options.onLayer?.({ kind, layer: image.layers[index]!, index, total });

  const analyzeOne = async (index: number) => {
    const layer = image.layers[index]!;
    if (isForeignLayer(layer) && !options.allowForeignLayers) {
      warnings[index]!.push(foreignLayerSkipped(layer));
      emit("skipped", index);
      return;
    }
    emit("started", index);
    const result = await analyzeLayerCached(source, layer, { ...options, analyzers });
    reports[index] = result.report;
    for (const w of result.warnings) warnings[index]!.push(w);
    emit(result.cached ? "cached" : "analyzed", index);
  };
  const limit = pLimit(Math.max(1, options.concurrency ?? 3));
  // the first failure fails the image: layers still queued are not downloaded, and the ones running
  // finish (and stop writing to the store) before the error is thrown
  let failed = false;
  const results = await Promise.allSettled(
    image.layers.map((_, index) =>
      limit(async () => {
        if (failed) return;
        try {
          await analyzeOne(index);
        } catch (err) {
          failed = true;
          throw err;
        }
      }),
    ),
  );
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
  return assembleInventory(image, reports, warnings, analyzers);
}

/**
 * The layer reports of one image (undefined where a layer was skipped) squashed into its Inventory;
 * `warnings` are per layer, in layer order.
 */
export function assembleInventory(
  image: ResolvedImage,
  reports: readonly (LayerReport | undefined)[],
  warnings: readonly ScanWarning[][],
  analyzers: readonly Analyzer[],
): Inventory {
  const context = inventoryContext(image, reports);
  const squashed = squashLayers(
    reports.filter((r): r is LayerReport => r !== undefined),
    { analyzers, context },
  );
  squashed.warnings.push(...gapWarnings(squashed.os, squashed.facts, analyzers));
  // the sightings served the warnings above; later stages have no use for them
  delete squashed.facts[UNREAD_PACKAGE_DB];
  // the file owners served the attribution; the packages carry what it found
  squashed.packages = attributeOsOwned(squashed.packages, squashed.facts[OS_OWNED_FILES] as OsOwnedFact);
  delete squashed.facts[OS_OWNED_FILES];
  if (!squashed.os && squashed.packages.length === 0)
    // an empty result must say so: a scan that found nothing to match is not a clean image
    squashed.warnings.push({
      code: "nothing-found",
      message:
        "no operating system and no package database were found in the image: nothing could be matched",
    });
  // a resolved image without a config digest (re-inventory from cached layers) has no config to audit
  const config = image.configDigest === "" ? undefined : image.config;
  const audit = auditImage(analyzers, squashed.facts, config, context);
  const { identity } = image;
  return {
    schemaVersion: 1,
    image: {
      ref: identity.ref,
      registry: identity.registry,
      repository: identity.repository,
      digest: identity.digest,
      tags: identity.tags,
      platform: identity.platform,
      ...(squashed.os ? { os: squashed.os } : {}),
    },
    layers: image.layers.map((l) => l.digest),
    analyzerSet: analyzerSetVersion(analyzers),
    packages: squashed.packages,
    warnings: [...warnings.flat(), ...squashed.warnings, ...audit.warnings],
    ...(Object.keys(squashed.facts).length > 0 ? { facts: squashed.facts } : {}),
    misconfigurations: audit.misconfigurations,
  };
}

/** The image config and the layers left unanalysed, as analyzers' inventory hooks see them. */
function inventoryContext(
  image: ResolvedImage,
  reports: readonly (LayerReport | undefined)[],
): InventoryContext {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const os = text(image.config.os) ?? image.identity.platform.os;
  const osVersion = text(image.config["os.version"]) ?? image.identity.platform["os.version"];
  return {
    ...(os ? { os } : {}),
    ...(osVersion ? { osVersion } : {}),
    skippedLayers: image.layers
      .filter((_, i) => reports[i] === undefined)
      .map(({ digest, mediaType, urls }) => ({ digest, mediaType, ...(urls ? { urls } : {}) })),
  };
}
