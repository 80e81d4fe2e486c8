import type { SettingName } from "../../shared/composition/settings.js";
import type { StackInput } from "../portcullis-stack.js";
import { type Registry, StackConfigSchema } from "../stack-config.js";

/** A registry resource id as Azure spells it. */
export const acr = (name: string, group = "registries"): Registry => ({
  name,
  resourceId: `/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/${group}/providers/Microsoft.ContainerRegistry/registries/${name}acr`,
});

/** A stack as `index.ts` would read it from Pulumi.<stack>.yaml. */
export function stackInput(options: {
  registries?: Registry[];
  configured?: Partial<Record<SettingName, string>>;
  secrets?: Partial<Record<SettingName, string>>;
  policyFile?: string;
}): StackInput {
  return {
    config: StackConfigSchema.parse({
      location: "westeurope",
      registries: options.registries ?? [],
      ...(options.policyFile ? { policyFile: options.policyFile } : {}),
    }),
    configured: options.configured ?? {},
    secrets: options.secrets ?? {},
    functionsPackage: { path: "/tmp/functions.zip", sha256: "0".repeat(64) },
  };
}
