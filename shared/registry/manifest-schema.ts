import { z } from "zod";
import { DescriptorSchema } from "../model/image.js";

/** An OCI image manifest or a Docker v2 schema 2 manifest (same shape). */
export const ImageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof ImageManifestSchema>;

/** An OCI image index or a Docker manifest list (same shape). */
export const ImageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageIndex = z.infer<typeof ImageIndexSchema>;

/** The parts of an image config that resolution reads; the rest is kept as it is. */
export const ImageConfigSchema = z.looseObject({
  os: z.string().optional(),
  architecture: z.string().optional(),
  variant: z.string().optional(),
  "os.version": z.string().optional(),
  rootfs: z.object({ type: z.string(), diff_ids: z.array(z.string()).nullish() }).optional(),
});
export type ImageConfig = z.infer<typeof ImageConfigSchema>;
