import { z } from "zod";
import { RegistrySnapshotSchema } from "./registry-snapshot.js";

/** What one layer's SOFTWARE hive delta contributes; overlaid across layers in image order. */
export const WindowsLayerDataSchema = z.object({
  hive: z.literal("SOFTWARE"),
  software: RegistrySnapshotSchema,
});
export type WindowsLayerData = z.infer<typeof WindowsLayerDataSchema>;
