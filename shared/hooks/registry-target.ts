import { z } from "zod";

/** The `target` of a Distribution-style event (Distribution, ACR webhook, ACR on Event Grid): what was pushed. */
export const RegistryTargetSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().optional(),
  repository: z.string().min(1),
  tag: z.string().optional(),
});

/** ACR's `request`: the registry host the push was made to. */
export const AcrRequestSchema = z.looseObject({ host: z.string().min(1) });
