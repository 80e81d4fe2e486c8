import { z } from "zod";
import { JOB_SCHEDULES, ncrontab, parseCadence } from "../stages/jobs/schedules.js";
import { ScanError } from "../model/errors.js";

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
    /** a zip of CVE JSON 5 records (the CVE records' own CVSS); default the CVE Program's cvelistV5 */
    PORTCULLIS_CVE_URL: optionalText,
    /** NVD's JSON 2.0 feed files base (`<url>/nvdcve-2.0-<year>.json.gz`); default NVD's own */
    PORTCULLIS_NVD_URL: optionalText,
    /** the Debian security tracker's JSON; default security-tracker.debian.org/tracker/data/json */
    PORTCULLIS_DEBIAN_TRACKER_URL: optionalText,
    /** fetch foreign / non-distributable layers (Windows base layers) from their `urls` */
    PORTCULLIS_ALLOW_FOREIGN_LAYERS: z
      .string()
      .optional()
      .transform((s) => /^(1|true|yes)$/i.test(s?.trim() ?? "")),
    PORTCULLIS_RESCAN_AFTER_HOURS: positive(24),
    PORTCULLIS_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
    PORTCULLIS_DEDUPE_WINDOW_SECONDS: z.coerce.number().int().min(0).optional(),
    /** registries events may name, as host[:port] globs (see registry-allow-list.ts for the defaults) */
    PORTCULLIS_REGISTRIES: csv,
    /** clamd, the second content engine: tcp://127.0.0.1:3310 or a Unix socket path; off when unset (read by analysis/registry.ts) */
    PORTCULLIS_CLAMD: optionalText,
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
    /** tries of a tracking message while GitHub is unreachable before it is dropped, visibly (60: about 4½ hours) */
    PORTCULLIS_TRACKING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(60),
    /** the first put-back's delay in seconds; each next one doubles, up to the max */
    PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS: z.coerce.number().positive().max(3600).default(2),
    PORTCULLIS_TRACKING_RETRY_MAX_SECONDS: z.coerce.number().positive().max(86_400).default(300),
    /** the still-in-use rescan sweep's NCRONTAB: `0 M * * * *` or `0 M 0/H * * *` (star-slash H too) (stages/jobs/schedules.ts) */
    PORTCULLIS_RESCAN_SCHEDULE: z
      .string()
      .default(ncrontab(JOB_SCHEDULES.rescan.cadence))
      .superRefine((text, ctx) => {
        try {
          parseCadence(text);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
        }
      }),
    /** a gate query within this many hours keeps an untagged image in the sweep */
    PORTCULLIS_RESCAN_GATE_WINDOW_HOURS: positive(168),
    /** images a rescan (sweep or historical) queues at once: bounds the load on the bus and the tables */
    PORTCULLIS_RESCAN_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(32),
    /** a rescan holds back its next batch while the matching queue holds more than this (0 = never) */
    PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH: z.coerce.number().int().min(0).default(2000),
    /** `portcullis serve`'s storage: "sqlite" (durable on commit, the default) or "azurite" (Storage Queues, Tables and Blobs) */
    PORTCULLIS_LOCAL_STORE: z.enum(["sqlite", "azurite"]).default("sqlite"),
    /** `portcullis serve`: how long a message lock and a layer lease outlive a crashed holder (default 60) */
    PORTCULLIS_LOCAL_LOCK_SECONDS: z.coerce.number().int().min(2).max(3600).optional(),
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
    throw new ScanError(
      "invalid-settings",
      `invalid app settings: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`,
    );
  return parsed.data;
}

/** The feed options of `db update` the settings name (OSV base, MSRC base, which feeds). */
export function dbUpdateOptions(settings: Settings): {
  baseUrl?: string;
  msrcUrl?: string;
  ecosystems?: string[];
  cveUrl?: string;
  nvdUrl?: string;
  debianTrackerUrl?: string;
} {
  return {
    ...(settings.PORTCULLIS_DB_URL ? { baseUrl: settings.PORTCULLIS_DB_URL } : {}),
    ...(settings.PORTCULLIS_MSRC_URL ? { msrcUrl: settings.PORTCULLIS_MSRC_URL } : {}),
    ...(settings.PORTCULLIS_DB_ECOSYSTEMS.length ? { ecosystems: settings.PORTCULLIS_DB_ECOSYSTEMS } : {}),
    ...(settings.PORTCULLIS_CVE_URL ? { cveUrl: settings.PORTCULLIS_CVE_URL } : {}),
    ...(settings.PORTCULLIS_NVD_URL ? { nvdUrl: settings.PORTCULLIS_NVD_URL } : {}),
    ...(settings.PORTCULLIS_DEBIAN_TRACKER_URL
      ? { debianTrackerUrl: settings.PORTCULLIS_DEBIAN_TRACKER_URL }
      : {}),
  };
}

/** One setting alone, parsed by its own rule: for defaults shown before the whole set is needed (CLI help). */
export function readSetting<K extends keyof Settings>(
  name: K,
  env: NodeJS.ProcessEnv = process.env,
): Settings[K] {
  const parsed = SettingsSchema.shape[name].safeParse(env[name]);
  if (!parsed.success)
    throw new ScanError("invalid-settings", `invalid app setting ${name}: ${z.prettifyError(parsed.error)}`);
  return parsed.data as Settings[K];
}

/** A setting's name: `infra/` generates the Function App's settings from this schema's own list. */
export type SettingName = keyof z.input<typeof SettingsSchema>;
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as SettingName[];
/** Secrets: a deployment keeps them in Key Vault and hands the app a reference, never the value. */
export const SECRET_SETTINGS = [
  "PORTCULLIS_HOOK_TOKEN",
  "PORTCULLIS_HOOK_SECRET",
  "PORTCULLIS_GITHUB_WEBHOOK_SECRET",
  "PORTCULLIS_GITHUB_TOKEN",
  "PORTCULLIS_GITHUB_APP_PRIVATE_KEY",
] as const satisfies readonly SettingName[];
/** Connection strings carry keys: local development against Azurite only, never deployed. */
export const LOCAL_ONLY_SETTINGS = [
  "AzureWebJobsStorage",
  "ServiceBusConnection",
] as const satisfies readonly SettingName[];
