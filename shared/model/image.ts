import { z } from "zod";
import { DescriptorDigestSchema } from "./digest.js";

/** An OCI content descriptor (manifest, config or layer). */
export const DescriptorSchema = z.object({
  mediaType: z.string(),
  digest: DescriptorDigestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z
    .object({
      os: z.string(),
      architecture: z.string(),
      variant: z.string().optional(),
      "os.version": z.string().optional(),
      "os.features": z.array(z.string()).optional(),
    })
    .optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

export const PlatformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  "os.version": z.string().optional(),
});
export type Platform = z.infer<typeof PlatformSchema>;

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Where an image came from, as the report names it. */
export const ImageIdentitySchema = z.object({
  ref: z.string(),
  registry: z.string(),
  repository: z.string(),
  digest: z.string(),
  tags: z.array(z.string()),
  platform: PlatformSchema,
});
export type ImageIdentity = z.infer<typeof ImageIdentitySchema>;

/** One layer of a resolved platform image, in order from base to top. */
export const LayerRefSchema = z.object({
  /** digest of the blob as stored (compressed) — the cache key */
  digest: z.string(),
  /** uncompressed digest from the config's rootfs.diff_ids, when known */
  diffId: z.string().optional(),
  mediaType: z.string(),
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
});
export type LayerRef = z.infer<typeof LayerRefSchema>;

/** A single-platform image after manifest resolution: what analysis needs. */
export const ResolvedImageSchema = z.object({
  identity: ImageIdentitySchema,
  manifestMediaType: z.string(),
  configDigest: z.string(),
  /** the image config JSON (os, architecture, os.version, rootfs, history) */
  config: z.record(z.string(), z.unknown()),
  layers: z.array(LayerRefSchema),
  /** the digest of the image index this platform image was picked from, when there was one */
  indexDigest: z.string().optional(),
});
export type ResolvedImage = z.infer<typeof ResolvedImageSchema>;
