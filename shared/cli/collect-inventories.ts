import type { Analyzer } from "../analysis/analyzer.js";
import { inventoryImage, type LayerEvent } from "../analysis/inventory-image.js";
import { DEFAULT_LIMITS, type Limits } from "../model/limits.js";
import type { Inventory } from "../model/report.js";
import { FsBlobStore } from "../ports/fs-blob-store.js";
import { dockerConfigPath, loadDockerConfigCredentials } from "../registry/docker-config.js";
import { openImageSource } from "../registry/open-image-source.js";
import { parsePlatformSelector } from "../registry/platform-selection.js";
import type { TransferStats } from "../registry/transfer-stats.js";
import type { ImageOptions } from "./image-options.js";
import { ProgressLine } from "./progress-line.js";

/**
 * The CLI's front half of a scan: open the image from any transport, resolve its platforms, and
 * inventory each one through the layer cache in the cache dir.
 */
export async function collectInventories(
  ref: string,
  options: ImageOptions,
  extra: { stats?: TransferStats; limits?: Partial<Limits>; analyzers?: readonly Analyzer[] } = {},
): Promise<Inventory[]> {
  const platform = parsePlatformSelector(options.platform);
  const progress = new ProgressLine(process.stderr);
  const source = await openImageSource(ref, {
    insecureRegistries: options.insecureRegistry,
    credentials: await loadDockerConfigCredentials(dockerConfigPath()),
    ...(extra.stats ? { stats: extra.stats } : {}),
    ...(extra.limits ? { limits: extra.limits } : {}),
    onProgress: (bytes, total) => progress.bytes(bytes, total),
    ...(options.allowForeignLayers ? { allowForeignLayers: true } : {}),
  });
  try {
    const images = await source.resolve(platform);
    // one cache dir: layer reports under layers/, the vulnerability DB under vulndb/
    const store = new FsBlobStore(options.cacheDir);
    const inventories: Inventory[] = [];
    for (const image of images) {
      const onLayer = (e: LayerEvent) => progress.layer(image.identity.platform, e);
      inventories.push(
        await inventoryImage(source, image, {
          store,
          onLayer,
          limits: { ...DEFAULT_LIMITS, ...extra.limits },
          ...(extra.analyzers ? { analyzers: extra.analyzers } : {}),
          ...(options.allowForeignLayers ? { allowForeignLayers: true } : {}),
        }),
      );
    }
    return inventories;
  } finally {
    progress.done();
    await source.close?.();
  }
}
