import type { ImageSource } from "../registry/image-source.js";
import { parsePlatformSelector } from "../registry/platform-selection.js";

/** The `Labels` of an image's config, read from the registry (the manifest and config only, never a layer). */
export async function imageLabels(
  openSource: (ref: string) => Promise<ImageSource>,
  ref: string,
): Promise<Record<string, string>> {
  const source = await openSource(ref);
  try {
    const [image] = await source.resolve(parsePlatformSelector("all"));
    const labels = (image?.config.config as { Labels?: unknown } | undefined)?.Labels;
    if (!labels || typeof labels !== "object") return {};
    return Object.fromEntries(
      Object.entries(labels as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === "string",
      ),
    );
  } finally {
    await source.close?.();
  }
}
