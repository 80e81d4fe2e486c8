import type { HttpDeps } from "../http/http-deps.js";
import type { HookAuthConfig } from "../hooks/hook-auth.js";
import { registryAllowListFromSettings } from "./registry-allow-list-settings.js";
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

/** The HTTP routes' dependencies: the stores and bus, plus every hook setting (both hosts build them here). */
export function httpDepsFromSettings(
  settings: Settings,
  base: Pick<HttpDeps, "tables" | "blobs" | "bus" | "now" | "log">,
  hookToken?: string,
): HttpDeps {
  return {
    ...base,
    hookAuth: hookAuthConfig(settings, hookToken),
    // only the local host passes its hook token
    registryAllowList: registryAllowListFromSettings(settings, hookToken === undefined ? "azure" : "local"),
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
