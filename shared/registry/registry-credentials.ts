/** What a registry is told about who we are. */
export type RegistryCredential =
  | { kind: "basic"; username: string; password: string }
  /** an OAuth2 refresh token: Docker's `identitytoken`, or an ACR refresh token from /oauth2/exchange */
  | { kind: "refresh-token"; token: string; username?: string };

/**
 * Supplies credentials for a registry host ("myregistry.azurecr.io", "127.0.0.1:5000"); undefined
 * means "try the next provider, then anonymous". Called again after a 401, so it may refresh.
 */
export type CredentialsProvider = (registry: string) => Promise<RegistryCredential | undefined>;

/** Asks each provider in turn; the first answer wins. */
export function chainCredentialsProviders(
  ...providers: (CredentialsProvider | undefined)[]
): CredentialsProvider {
  const present = providers.filter((p): p is CredentialsProvider => p !== undefined);
  return async (registry) => {
    for (const provider of present) {
      const credential = await provider(registry);
      if (credential) return credential;
    }
    return undefined;
  };
}
