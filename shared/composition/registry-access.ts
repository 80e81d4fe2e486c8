import type { TokenCredential } from "@azure/core-auth";
import { aadTokenFromCredential, acrCredentialsProvider } from "../registry/acr-token-exchange.js";
import { loadDockerConfigCredentials } from "../registry/docker-config.js";
import { chainCredentialsProviders } from "../registry/registry-credentials.js";
import type { RegistryRequestOptions } from "../registry/registry-request.js";
import type { RegistryAllowList } from "../registry/registry-allow-list.js";
import type { Settings } from "./settings.js";

/**
 * Docker-config credentials first, then (with an Azure identity) the ACR token exchange. Credentials
 * go to a token realm on another host only when `allowList` (the host's one list) allows that host.
 */
export async function registryAccess(
  settings: Settings,
  allowList: RegistryAllowList,
  credential?: TokenCredential,
): Promise<
  Pick<RegistryRequestOptions, "credentials" | "insecureRegistries" | "tokenRealmAllowed"> & {
    allowForeignLayers: boolean;
  }
> {
  const dockerConfig = await loadDockerConfigCredentials(
    ...(settings.PORTCULLIS_DOCKER_CONFIG ? [settings.PORTCULLIS_DOCKER_CONFIG] : []),
  );
  const acr = credential
    ? acrCredentialsProvider({
        getAadToken: aadTokenFromCredential(credential),
        ...(settings.PORTCULLIS_ACR_REGISTRIES.length > 0
          ? { registries: settings.PORTCULLIS_ACR_REGISTRIES }
          : {}),
      })
    : undefined;
  return {
    credentials: chainCredentialsProviders(dockerConfig, acr),
    insecureRegistries: settings.PORTCULLIS_INSECURE_REGISTRIES,
    allowForeignLayers: settings.PORTCULLIS_ALLOW_FOREIGN_LAYERS,
    tokenRealmAllowed: (host) => allowList.allows(host),
  };
}
