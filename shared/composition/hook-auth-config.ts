import type { HttpDeps } from "../http/http-deps.js";
import type { HookAuthConfig } from "../hooks/hook-auth.js";
import type { RegistryAllowList } from "../registry/registry-allow-list.js";
import type { Settings } from "./settings.js";

/** The hook credentials from settings; `token` overrides the setting (the local host's generated one). */
export function hookAuthConfig(settings: Settings, token?: string): HookAuthConfig {
  const bearerToken = token ?? settings.PORTCULLIS_HOOK_TOKEN;
  return {
    ...(bearerToken ? { bearerToken } : {}),
    ...(settings.PORTCULLIS_HOOK_SECRET_HEADER && settings.PORTCULLIS_HOOK_SECRET
      ? {
          sharedSecret: {
            header: settings.PORTCULLIS_HOOK_SECRET_HEADER,
            value: settings.PORTCULLIS_HOOK_SECRET,
          },
        }
      : {}),
  };
}

/**
 * The HTTP routes' dependencies: the stores and bus, plus every hook setting (both hosts build them
 * here). `registryAllowList` is the host's one list, the same the pipeline fetches under.
 */
export function httpDepsFromSettings(
  settings: Settings,
  base: Pick<HttpDeps, "tables" | "blobs" | "bus" | "now" | "log">,
  registryAllowList: RegistryAllowList,
  hookToken?: string,
): HttpDeps {
  return {
    ...base,
    hookAuth: hookAuthConfig(settings, hookToken),
    registryAllowList,
    ...(settings.PORTCULLIS_GITHUB_WEBHOOK_SECRET
      ? { githubWebhookSecret: settings.PORTCULLIS_GITHUB_WEBHOOK_SECRET }
      : {}),
    ...(settings.PORTCULLIS_EVENTGRID_ALLOWED_ORIGINS.length
      ? { eventGridAllowedOrigins: settings.PORTCULLIS_EVENTGRID_ALLOWED_ORIGINS }
      : {}),
    ...(settings.PORTCULLIS_DEDUPE_WINDOW_SECONDS !== undefined
      ? { dedupeWindowSeconds: settings.PORTCULLIS_DEDUPE_WINDOW_SECONDS }
      : {}),
  };
}
