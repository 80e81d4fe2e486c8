import { ScanError } from "../model/errors.js";
import {
  type ImageIndex,
  ImageIndexSchema,
  type ImageManifest,
  ImageManifestSchema,
} from "./manifest-schema.js";
import { isImageManifestMediaType, isIndexMediaType, MediaType } from "./media-types.js";

/** Bytes of a manifest or index as a transport delivered them. */
export interface ManifestContent {
  bytes: Buffer;
  /** the digest the bytes were verified against (or computed from, when fetched by tag) */
  digest: string;
  /** what the transport said it is (Content-Type, or the pointing descriptor's mediaType) */
  mediaType?: string;
}

export type ManifestDocument =
  | { kind: "index"; mediaType: string; index: ImageIndex }
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest };

const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(prettyjws|json)$/;

/** Parses a manifest or index; anything that is not one of the four known shapes is a permanent error. */
export function parseManifestDocument(content: ManifestContent, what: string): ManifestDocument {
  let json: unknown;
  try {
    json = JSON.parse(content.bytes.toString("utf8"));
  } catch {
    throw new ScanError("invalid-manifest", `${what} (${content.digest}) is not JSON`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ScanError("invalid-manifest", `${what} (${content.digest}) is not a JSON object`);
  }
  const body = json as Record<string, unknown>;
  const declared = typeof body.mediaType === "string" ? body.mediaType : undefined;
  const transportType = content.mediaType?.split(";")[0]?.trim();
  const mediaType =
    declared ?? (isKnown(transportType) ? transportType : inferMediaType(body, transportType));
  if (SCHEMA1.test(mediaType) || body.schemaVersion === 1) {
    throw new ScanError(
      "unsupported-media-type",
      `${what} is a Docker schema 1 manifest, which is deprecated and not supported; re-push the image`,
    );
  }
  if (isIndexMediaType(mediaType)) {
    const parsed = ImageIndexSchema.safeParse(body);
    if (!parsed.success) throw invalid(what, content.digest, parsed.error.issues[0]);
    return { kind: "index", mediaType, index: parsed.data };
  }
  if (isImageManifestMediaType(mediaType)) {
    const parsed = ImageManifestSchema.safeParse(body);
    if (!parsed.success) throw invalid(what, content.digest, parsed.error.issues[0]);
    return { kind: "manifest", mediaType, manifest: parsed.data };
  }
  throw new ScanError(
    "unsupported-media-type",
    `${what} has media type "${mediaType.slice(0, 200)}", which is not an OCI or Docker v2 image manifest or index`,
  );
}

function isKnown(mediaType: string | undefined): mediaType is string {
  return isIndexMediaType(mediaType) || isImageManifestMediaType(mediaType);
}

/** OCI lets `mediaType` be absent; the shape then tells an index from a manifest. */
function inferMediaType(body: Record<string, unknown>, transportType: string | undefined): string {
  if (Array.isArray(body.manifests)) return MediaType.ociIndex;
  if (typeof body.config === "object" && Array.isArray(body.layers)) return MediaType.ociManifest;
  return transportType ?? "(none)";
}

function invalid(
  what: string,
  digest: string,
  issue: { path: PropertyKey[]; message: string } | undefined,
): ScanError {
  const where = issue?.path.length ? ` at ${issue.path.map(String).join(".")}` : "";
  return new ScanError(
    "invalid-manifest",
    `${what} (${digest}) is malformed${where}: ${issue?.message ?? "invalid"}`,
  );
}
