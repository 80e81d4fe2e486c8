import type { TokenCredential } from "@azure/identity";
import { z } from "zod";
import { ScanError } from "../model/errors.js";
import { readBoundedBody } from "./bounded-body.js";
import type { CredentialsProvider } from "./registry-credentials.js";

/** The AAD scope an ACR data-plane token is requested for. */
export const ACR_AAD_SCOPE = "https://containerregistry.azure.net/.default";

export interface AcrExchangeOptions {
  /** returns an AAD access token (managed identity, workload identity, az login …) */
  getAadToken: () => Promise<string>;
  /** registries this provider answers for; default: every `*.azurecr.io` (and sovereign clouds) */
  registries?: readonly string[];
  tenant?: string;
  /** hosts spoken to over plain HTTP (tests only) */
  insecureRegistries?: readonly string[];
  fetch?: typeof fetch;
  now?: () => number;
}

const RefreshTokenResponseSchema = z.looseObject({ refresh_token: z.string().min(1) });
const AccessTokenResponseSchema = z.looseObject({ access_token: z.string().min(1) });
const ACR_HOST = /\.azurecr\.(io|cn|us)$|\.azurecr\.microsoftazure\.de$/i;
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** ACR refresh tokens live about three hours; without a readable expiry, reuse one this long */
const FALLBACK_REFRESH_TOKEN_LIFETIME_MS = 45 * 60_000;
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** Adapts an Azure `TokenCredential` (e.g. ManagedIdentityCredential) to `getAadToken`. */
export function aadTokenFromCredential(credential: TokenCredential): () => Promise<string> {
  return async () => {
    const token = await credential.getToken(ACR_AAD_SCOPE);
    if (!token)
      throw new ScanError("unauthorized", "Azure credential returned no token for ACR", { permanent: false });
    return token.token;
  };
}

/** `POST /oauth2/exchange`: trades an AAD access token for an ACR refresh token. */
export async function exchangeAadTokenForAcrRefreshToken(
  registry: string,
  aadToken: string,
  options: Pick<AcrExchangeOptions, "tenant" | "insecureRegistries" | "fetch"> = {},
): Promise<string> {
  const form = new URLSearchParams({ grant_type: "access_token", service: registry, access_token: aadToken });
  if (options.tenant) form.set("tenant", options.tenant);
  const json = await postForm(registry, "/oauth2/exchange", form, options);
  const parsed = RefreshTokenResponseSchema.safeParse(json);
  if (!parsed.success)
    throw new ScanError("unauthorized", `${registry}: /oauth2/exchange returned no refresh_token`);
  return parsed.data.refresh_token;
}

/** `POST /oauth2/token`: trades an ACR refresh token for an access token limited to `scope`. */
export async function requestAcrAccessToken(
  registry: string,
  refreshToken: string,
  scope: string,
  options: Pick<AcrExchangeOptions, "insecureRegistries" | "fetch"> = {},
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: "refresh_token",
    service: registry,
    scope,
    refresh_token: refreshToken,
  });
  const json = await postForm(registry, "/oauth2/token", form, options);
  const parsed = AccessTokenResponseSchema.safeParse(json);
  if (!parsed.success)
    throw new ScanError("unauthorized", `${registry}: /oauth2/token returned no access_token`);
  return parsed.data.access_token;
}

/**
 * A CredentialsProvider for ACR with an Azure identity: the AAD token is exchanged for a refresh
 * token (cached until shortly before it expires), which the registry client's Bearer flow then
 * trades at the registry's own /oauth2/token for a per-repository access token.
 */
export function acrCredentialsProvider(options: AcrExchangeOptions): CredentialsProvider {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { token: string; expiresAt: number }>();
  const applies = (registry: string): boolean =>
    options.registries ? options.registries.includes(registry) : ACR_HOST.test(registry);
  return async (registry) => {
    if (!applies(registry)) return undefined;
    const cached = cache.get(registry);
    if (cached && cached.expiresAt > now()) return { kind: "refresh-token", token: cached.token };
    const aadToken = await options.getAadToken();
    const token = await exchangeAadTokenForAcrRefreshToken(registry, aadToken, options);
    const expiresAt = (jwtExpiry(token) ?? now() + FALLBACK_REFRESH_TOKEN_LIFETIME_MS) - EXPIRY_MARGIN_MS;
    cache.set(registry, { token, expiresAt });
    return { kind: "refresh-token", token };
  };
}

async function postForm(
  registry: string,
  path: string,
  form: URLSearchParams,
  options: Pick<AcrExchangeOptions, "insecureRegistries" | "fetch">,
): Promise<unknown> {
  const scheme = options.insecureRegistries?.includes(registry) ? "http" : "https";
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(`${scheme}://${registry}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
    });
  } catch (err) {
    throw new ScanError("registry-unreachable", `${registry}${path}: ${(err as Error).message}`, {
      permanent: false,
      cause: err,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    const refused = response.status === 400 || response.status === 401 || response.status === 403;
    throw new ScanError(
      refused ? "unauthorized" : "token-request-failed",
      `${registry}${path} answered ${response.status}${refused ? ": the Azure identity was refused (does it have AcrPull?)" : ""}`,
      { permanent: response.status < 500 },
    );
  }
  const body = await readBoundedBody(response, MAX_RESPONSE_BYTES, `${registry}${path} response`);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ScanError("unauthorized", `${registry}${path}: response is not JSON`);
  }
}

/** Reads the `exp` claim of a JWT without trusting it for anything but cache lifetime. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
