import { isImageManifestMediaType, isIndexMediaType } from "../registry/media-types.js";

/**
 * Whether a pushed object is something we scan: an image manifest or an index. Blob pushes (layers,
 * configs) and formats we cannot analyse (Docker schema 1, Helm's legacy chart type) are not.
 * Registries whose events are manifest-level by definition (ACR, Event Grid) may omit the type.
 */
export const isScannableManifest = (mediaType: string | undefined, { optional = false } = {}): boolean =>
  mediaType === undefined ? optional : isImageManifestMediaType(mediaType) || isIndexMediaType(mediaType);
