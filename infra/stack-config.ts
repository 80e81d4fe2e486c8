import { z } from "zod";

/** An Azure Container Registry the pipeline watches (Event Grid) and pulls from (AcrPull). */
export const RegistrySchema = z.object({
  /** a short label for resource names (`prod`, `team-a`) */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "a short lowercase label"),
  /** the existing registry's resource id; portcullis never creates or changes the registry itself */
  resourceId: z
    .string()
    .regex(
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/[A-Za-z0-9]+$/i,
      "a Microsoft.ContainerRegistry/registries resource id",
    ),
  /** the registry's region: an Event Grid system topic lives where its source does (default: the stack's) */
  location: z.string().min(1).optional(),
});
export type Registry = z.infer<typeof RegistrySchema>;

const days = (fallback: number) => z.number().int().min(1).max(3650).default(fallback);

/** Stack configuration (`portcullis:*` in Pulumi.<stack>.yaml; Pulumi.sample.yaml documents each key). */
export const StackConfigSchema = z.object({
  location: z.string().min(1),
  registries: z.array(RegistrySchema).default([]),
  /** a policy file (repository-relative) packaged beside the app and named by PORTCULLIS_POLICY */
  policyFile: z.string().min(1).optional(),
  retention: z
    .object({
      /** `reports/`: an image's latest report; rewritten on every rescan, so only images gone quiet age out */
      reportDays: days(180),
      /** `inventories/`: layer reports, content-addressed and re-derivable from the registry */
      layerReportDays: days(90),
      /** `matches/`: one per scan and DB version, superseded by the next match */
      matchesDays: days(30),
      /** blob and container soft delete: how long a deleted blob can be restored */
      softDeleteDays: z.number().int().min(1).max(365).default(7),
      /** Event Grid deliveries that failed every retry */
      deadLetterDays: days(30),
    })
    .prefault({}),
  functions: z
    .object({
      /** Flex Consumption instance size (MB): layer analysis decompresses layers in memory-bounded streams */
      instanceMemoryMB: z.union([z.literal(512), z.literal(2048), z.literal(4096)]).default(2048),
      /** a ceiling on scale-out (and on spend) */
      maximumInstanceCount: z.number().int().min(1).max(1000).default(20),
    })
    .prefault({}),
  /** Standard: duplicate detection needs it (Basic lacks it), Premium's fixed price buys nothing here */
  serviceBusSku: z.enum(["Standard", "Premium"]).default("Standard"),
});
export type StackConfig = z.infer<typeof StackConfigSchema>;
