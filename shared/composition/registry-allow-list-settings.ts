import { ANY_ACR, RegistryAllowList } from "../registry/registry-allow-list.js";
import type { Settings } from "./settings.js";

/**
 * `PORTCULLIS_REGISTRIES` when set; otherwise in Azure the configured ACRs (every ACR when none is
 * named), and locally the registries named on the command line or in the settings.
 */
export function registryAllowListFromSettings(
  settings: Settings,
  host: "azure" | "local",
  namedOnCommandLine: readonly string[] = [],
): RegistryAllowList {
  if (settings.PORTCULLIS_REGISTRIES.length > 0) return new RegistryAllowList(settings.PORTCULLIS_REGISTRIES);
  const acr = settings.PORTCULLIS_ACR_REGISTRIES;
  if (host === "azure") return new RegistryAllowList(acr.length > 0 ? acr : [ANY_ACR]);
  const named = [...settings.PORTCULLIS_INSECURE_REGISTRIES, ...namedOnCommandLine, ...acr];
  // a host named without a port means that host on any port, as --insecure-registry reads it
  return new RegistryAllowList(named.flatMap((h) => (/:[0-9]+$/.test(h) ? [h] : [h, `${h}:*`])));
}
