import { z } from "zod";

const csv = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean),
  );
const positive = (fallback: number) => z.coerce.number().positive().default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((s) => (s?.trim() ? s.trim() : undefined));

/**
 * Every app setting portcullis reads (documented in local.settings.sample.json), validated once at
 * the composition root: the Functions app settings in Azure, the environment of `portcullis serve`.
 */
export const SettingsSchema = z
  .object({
    /** `Authorization: Bearer <token>` registry hooks must send */
    PORTCULLIS_HOOK_TOKEN: optionalText,
    /** or a shared secret in a header of your choosing (Harbor's "Auth Header", ACR custom headers) */
    PORTCULLIS_HOOK_SECRET_HEADER: optionalText,
    PORTCULLIS_HOOK_SECRET: optionalText,
    PORTCULLIS_GITHUB_WEBHOOK_SECRET: optionalText,
    PORTCULLIS_EVENTGRID_ALLOWED_ORIGINS: csv,
    PORTCULLIS_INSECURE_REGISTRIES: csv,
    PORTCULLIS_DOCKER_CONFIG: optionalText,
    /** registries pulled with the managed identity (ACR token exchange); default every *.azurecr.io */
    PORTCULLIS_ACR_REGISTRIES: csv,
    PORTCULLIS_MANAGED_IDENTITY_CLIENT_ID: optionalText,
    PORTCULLIS_POLICY: optionalText,
    PORTCULLIS_DB_URL: optionalText,
    /** MSRC CVRF API base; default the public API. Leave `MSRC` out of PORTCULLIS_DB_ECOSYSTEMS to skip it */
    PORTCULLIS_MSRC_URL: optionalText,
    PORTCULLIS_DB_ECOSYSTEMS: csv,
    /** fetch foreign / non-distributable layers (Windows base layers) from their `urls` */
    PORTCULLIS_ALLOW_FOREIGN_LAYERS: z
      .string()
      .optional()
      .transform((s) => /^(1|true|yes)$/i.test(s?.trim() ?? "")),
    PORTCULLIS_RESCAN_AFTER_HOURS: positive(24),
    PORTCULLIS_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
    PORTCULLIS_DEDUPE_WINDOW_SECONDS: z.coerce.number().int().min(0).optional(),
    PORTCULLIS_BLOB_CONTAINER: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/, "a blob container name")
      .default("portcullis"),
    /** GitHub tracking issues (shared/tracking/): a token, or a GitHub App's id and private key (PEM) */
    PORTCULLIS_GITHUB_TOKEN: optionalText,
    PORTCULLIS_GITHUB_APP_ID: optionalText,
    PORTCULLIS_GITHUB_APP_PRIVATE_KEY: optionalText,
    /** REST API base (GitHub Enterprise Server: https://HOST/api/v3); default https://api.github.com */
    PORTCULLIS_GITHUB_API_URL: optionalText,
    /** the web host image source labels must name; default https://github.com */
    PORTCULLIS_GITHUB_URL: optionalText,
    /** identity-based connections (Azure) */
    ServiceBusConnection__fullyQualifiedNamespace: optionalText,
    AzureWebJobsStorage__accountName: optionalText,
    AzureWebJobsStorage__blobServiceUri: optionalText,
    AzureWebJobsStorage__tableServiceUri: optionalText,
    /** connection strings: Azurite / local Functions development only */
    AzureWebJobsStorage: optionalText,
    ServiceBusConnection: optionalText,
  })
  .refine(
    (s) => (s.PORTCULLIS_HOOK_SECRET_HEADER === undefined) === (s.PORTCULLIS_HOOK_SECRET === undefined),
    "PORTCULLIS_HOOK_SECRET_HEADER and PORTCULLIS_HOOK_SECRET go together",
  );
export type Settings = z.infer<typeof SettingsSchema>;

/** Reads the settings from an environment; a bad value names the setting. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success)
    throw new Error(`invalid app settings: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`);
  return parsed.data;
}

/** The feed options of `db update` the settings name (OSV base, MSRC base, which feeds). */
export function dbUpdateOptions(settings: Settings): {
  baseUrl?: string;
  msrcUrl?: string;
  ecosystems?: string[];
} {
  return {
    ...(settings.PORTCULLIS_DB_URL ? { baseUrl: settings.PORTCULLIS_DB_URL } : {}),
    ...(settings.PORTCULLIS_MSRC_URL ? { msrcUrl: settings.PORTCULLIS_MSRC_URL } : {}),
    ...(settings.PORTCULLIS_DB_ECOSYSTEMS.length ? { ecosystems: settings.PORTCULLIS_DB_ECOSYSTEMS } : {}),
  };
}
