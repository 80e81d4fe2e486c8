import { z } from "zod";
import type { TableStore } from "../ports/table-store.js";
import { imagePartition, readScannedImage, type ScannedImage } from "../stages/scanned-images.js";

/**
 * The verdict's row of one image, read through the `images` table's owner, for tracking and the
 * webhook: a row that does not parse counts as none (its image is shown as unreadable); a storage
 * error propagates, so the message or delivery is tried again.
 */
export async function readStoredImage(
  tables: TableStore,
  image: { registry: string; repository: string },
  digest: string,
): Promise<ScannedImage | undefined> {
  try {
    return await readScannedImage(tables, imagePartition(image.registry, image.repository), digest);
  } catch (err) {
    if (err instanceof z.ZodError) return undefined;
    throw err;
  }
}
