import type { BlobStore } from "../ports/blob-store.js";
import { type LayerReport, LayerReportSchema } from "./layer-report.js";

const DIGEST = /^([a-z0-9]+):([a-f0-9]{32,128})$/;

/** `layers/sha256/<hex>/<analyzer-set>.json`: content-addressed by what was analysed and how. */
export function layerReportKey(digest: string, analyzerSet: string): string {
  const match = DIGEST.exec(digest);
  if (!match) throw new Error(`not a layer digest: ${JSON.stringify(digest)}`);
  if (!/^[A-Za-z0-9._-]+$/.test(analyzerSet)) throw new Error(`not an analyzer-set version: ${analyzerSet}`);
  return `layers/${match[1]}/${match[2]}/${analyzerSet}.json`;
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
