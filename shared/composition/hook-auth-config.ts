import type { HookAuthConfig } from "../registry/events/hook-auth.js";
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
