import { z } from "zod";
import { TierSchema } from "./tier.js";

/**
 * What the report tells a person to do about its findings: the planner in `policy/` writes these,
 * the renderers in `report/` print them.
 */
export const RemediationTargetSchema = z.object({ name: z.string(), fixedVersion: z.string() });
export type RemediationTarget = z.infer<typeof RemediationTargetSchema>;

const actionFields = {
  /** stable identity of the action (`apt`, `base-image`, `nuget:Newtonsoft.Json`): one key, one action */
  key: z.string(),
  /** one line a person reads */
  title: z.string(),
  /** what to run, when one command does it */
  command: z.string().optional(),
  /** vulnerability ids this action resolves, most severe first */
  findingIds: z.array(z.string()),
  /** the most urgent tier among them, so actions sort like the findings they fix */
  tier: TierSchema,
};

export const PackageUpgradeActionSchema = z.object({
  kind: z.literal("package-upgrade"),
  /** apt, apk, dnf, tdnf, zypper, npm, pip, dotnet, go, cargo, bundler, composer, manual */
  manager: z.string(),
  ecosystem: z.string(),
  packages: z.array(RemediationTargetSchema),
  ...actionFields,
});

export const BaseImageRebuildActionSchema = z.object({
  kind: z.literal("base-image-rebuild"),
  /** the base layers the vulnerable packages came from */
  layers: z.array(z.string()),
  baseImage: z.string().optional(),
  packages: z.array(RemediationTargetSchema),
  ...actionFields,
});

/** Windows: the OS is the base image, and a base image with a newer OS build is the only fix. */
export const OsBuildUpdateActionSchema = z.object({
  kind: z.literal("os-build-update"),
  product: z.string().optional(),
  minBuild: z.string(),
  kbs: z.array(z.string()),
  baseImage: z.string().optional(),
  ...actionFields,
});

/** New kinds join this union (and get a planner in policy/remediation): renderers switch on `kind`. */
export const RemediationActionSchema = z.discriminatedUnion("kind", [
  PackageUpgradeActionSchema,
  BaseImageRebuildActionSchema,
  OsBuildUpdateActionSchema,
]);
export type RemediationAction = z.infer<typeof RemediationActionSchema>;
