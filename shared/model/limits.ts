import { z } from "zod";

/** Bounds on what a hostile image may make us read. All configurable (portcullis.yaml `limits`). */
export const LimitsSchema = z.object({
  /** decompressed bytes of one layer (a decompression bomb stops here) */
  maxLayerBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 ** 3),
  /** tar entries in one layer */
  maxLayerEntries: z.number().int().positive().default(2_000_000),
  /** largest single file read into memory for an analyzer */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 ** 2),
  /** manifests, indexes and configs */
  maxManifestBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 2),
});
export type Limits = z.infer<typeof LimitsSchema>;
export const DEFAULT_LIMITS: Limits = LimitsSchema.parse({});
