import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  LOCAL_ONLY_SETTINGS,
  SECRET_SETTINGS,
  SETTING_NAMES,
  type SettingName,
  SettingsSchema,
} from "../shared/composition/settings.js";
import { ScanError } from "../shared/model/errors.js";

/** The connection name the Service Bus triggers use (functions/queue-trigger.ts SERVICE_BUS_CONNECTION). */
export const SERVICE_BUS_CONNECTION = "ServiceBusConnection";
/** The Functions host's own storage connection. */
export const HOST_STORAGE_CONNECTION = "AzureWebJobsStorage";

/** Settings the deployment itself fills in from the resources it creates. */
export const RESOURCE_SETTINGS = [
  "AzureWebJobsStorage__accountName",
  "ServiceBusConnection__fullyQualifiedNamespace",
  "PORTCULLIS_MANAGED_IDENTITY_CLIENT_ID",
] as const satisfies readonly SettingName[];

export interface AppSettingsInput {
  /** plain values from the stack (`portcullis:<SETTING_NAME>`) */
  configured: Partial<Record<SettingName, string>>;
  /** Key Vault references for the secret settings the stack holds */
  secretReferences: Partial<Record<SettingName, pulumi.Input<string>>>;
  storageAccountName: pulumi.Input<string>;
  serviceBusNamespace: pulumi.Input<string>;
  identityClientId: pulumi.Input<string>;
  insightsConnectionString: pulumi.Input<string>;
}

const isSecret = (name: string): boolean => (SECRET_SETTINGS as readonly string[]).includes(name);
const isLocalOnly = (name: string): boolean => (LOCAL_ONLY_SETTINGS as readonly string[]).includes(name);
const isResource = (name: string): boolean => (RESOURCE_SETTINGS as readonly string[]).includes(name);

/** The schema's default of a setting, as the string an app setting holds (undefined: none). */
export function defaultOf(name: SettingName): string | undefined {
  const field = SettingsSchema.shape[name] as z.ZodType;
  if (!(field instanceof z.ZodDefault)) return undefined;
  const value: unknown = field.def.defaultValue;
  return value === undefined ? undefined : String(value);
}

/**
 * Checks the stack's plain settings against the schema the code validates at startup, so a bad
 * value fails `pulumi preview` instead of the first invocation. Returns the parsed settings.
 */
export function checkConfigured(
  configured: Partial<Record<string, string>>,
  secretNames: readonly string[] = [],
) {
  for (const name of Object.keys(configured)) {
    if (!(SETTING_NAMES as string[]).includes(name))
      throw new ScanError("invalid-settings", `unknown app setting ${name} in the stack`);
    if (isLocalOnly(name))
      throw new ScanError(
        "invalid-settings",
        `${name} carries a key: local development only, never deployed`,
      );
    if (isSecret(name))
      throw new ScanError(
        "invalid-settings",
        `${name} is a secret: set it with \`pulumi config set --secret\``,
      );
    if (isResource(name))
      throw new ScanError(
        "invalid-settings",
        `${name} is set by the deployment from the resources it creates`,
      );
  }
  // A secret's value is not known here; a placeholder lets rules that pair settings still run.
  const placeholders = Object.fromEntries(secretNames.map((name) => [name, "<from Key Vault>"]));
  const parsed = SettingsSchema.safeParse({ ...configured, ...placeholders });
  if (!parsed.success)
    throw new ScanError(
      "invalid-settings",
      `invalid app settings in the stack: ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}

/**
 * The Function App's settings, generated from the code's settings schema: every schema setting
 * is either filled from the resources, a Key Vault reference, the stack's value, the schema's
 * default, or left unset (optional) — and the connection strings never. Then the host's own:
 * identity-based connections and Application Insights through the identity.
 */
export function appSettings(input: AppSettingsInput): Record<string, pulumi.Input<string>> {
  checkConfigured(input.configured, Object.keys(input.secretReferences));
  const fromResources: Record<(typeof RESOURCE_SETTINGS)[number], pulumi.Input<string>> = {
    AzureWebJobsStorage__accountName: input.storageAccountName,
    ServiceBusConnection__fullyQualifiedNamespace: pulumi.interpolate`${input.serviceBusNamespace}.servicebus.windows.net`,
    PORTCULLIS_MANAGED_IDENTITY_CLIENT_ID: input.identityClientId,
  };
  const settings: Record<string, pulumi.Input<string>> = {};
  for (const name of SETTING_NAMES) {
    if (isLocalOnly(name)) continue;
    const value = isResource(name)
      ? fromResources[name as (typeof RESOURCE_SETTINGS)[number]]
      : isSecret(name)
        ? input.secretReferences[name]
        : (input.configured[name] ?? defaultOf(name));
    if (value !== undefined) settings[name] = value;
  }
  return {
    ...settings,
    // The host's storage and the Service Bus triggers sign in as the user-assigned identity.
    [`${HOST_STORAGE_CONNECTION}__credential`]: "managedidentity",
    [`${HOST_STORAGE_CONNECTION}__clientId`]: input.identityClientId,
    [`${SERVICE_BUS_CONNECTION}__credential`]: "managedidentity",
    [`${SERVICE_BUS_CONNECTION}__clientId`]: input.identityClientId,
    // Identifies the Application Insights resource; with its local auth off, ingestion needs the token below.
    APPLICATIONINSIGHTS_CONNECTION_STRING: input.insightsConnectionString,
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: pulumi.interpolate`ClientId=${input.identityClientId};Authorization=AAD`,
  };
}
