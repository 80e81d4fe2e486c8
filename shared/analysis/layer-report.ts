import { z } from "zod";
import { WarningSchema } from "../model/inventory.js";
import { AnalyzerOutputSchema } from "./analyzer.js";

/** One analyzer's result for one file of a layer, keyed by (analyzer, path). */
export const FileResultSchema = z.object({
  analyzer: z.string(),
  path: z.string(),
  output: AnalyzerOutputSchema.omit({ warnings: true }),
});
export type FileResult = z.infer<typeof FileResultSchema>;

/** A link entry, recorded as a name and never followed. */
export const LinkEntrySchema = z.object({
  path: z.string(),
  type: z.enum(["symlink", "hardlink"]),
  /** as written in the tar header */
  target: z.string(),
});
export type LinkEntry = z.infer<typeof LinkEntrySchema>;

export const CompressionSchema = z.enum(["gzip", "zstd", "none"]);
export type Compression = z.infer<typeof CompressionSchema>;

/**
 * What analysing one layer produced: stored once per (layer digest, analyzer set) and squashed
 * with the image's other layers into an Inventory (Clair's content-addressed layer index).
 */
export const LayerReportSchema = z.object({
  schemaVersion: z.literal(1),
  digest: z.string(),
  analyzerSet: z.string(),
  compression: CompressionSchema,
  /** tar entries seen and decompressed bytes read */
  entries: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  files: z.array(FileResultSchema),
  /** links at paths an analyzer reads (they replace earlier files there) and links escaping the root */
  links: z.array(LinkEntrySchema),
  /** `.wh.<name>`: the path this layer deletes */
  whiteouts: z.array(z.string()),
  /** `.wh..wh..opq`: directories whose earlier content this layer hides */
  opaqueDirs: z.array(z.string()),
  warnings: z.array(WarningSchema),
});
export type LayerReport = z.infer<typeof LayerReportSchema>;
