import { parseDigest } from "../model/digest.js";
import type { BlobStore } from "../ports/blob-store.js";
import { type LayerReport, LayerReportSchema } from "./layer-report.js";
import { InvariantError } from "../model/errors.js";

/** `layers/sha256/<hex>/<analyzer-set>.json`: content-addressed by what was analysed and how. */
export function layerReportKey(digest: string, analyzerSet: string): string {
  const { algorithm, hex } = parseDigest(digest);
  if (!/^[A-Za-z0-9._-]+$/.test(analyzerSet))
    throw new InvariantError(`not an analyzer-set version: ${analyzerSet}`);
  return `layers/${algorithm}/${hex}/${analyzerSet}.json`;
}

/** A cached LayerReport, or undefined on a miss; an unreadable entry counts as a miss. */
export async function loadLayerReport(
  store: BlobStore,
  digest: string,
  analyzerSet: string,
): Promise<LayerReport | undefined> {
  const raw = await store.get(layerReportKey(digest, analyzerSet));
  if (!raw) return undefined;
  try {
    const parsed = LayerReportSchema.safeParse(JSON.parse(raw.toString("utf8")));
    return parsed.success && parsed.data.digest === digest ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function storeLayerReport(store: BlobStore, report: LayerReport): Promise<void> {
  await store.put(layerReportKey(report.digest, report.analyzerSet), JSON.stringify(report), {
    contentType: "application/json",
  });
}
