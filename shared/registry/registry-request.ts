import { z } from "zod";
import { ScanError } from "../model/errors.js";
import { readBoundedBody } from "./bounded-body.js";
import type { CredentialsProvider, RegistryCredential } from "./registry-credentials.js";
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry-policy.js";
import { TransferStats } from "./transfer-stats.js";
import { type AuthChallenge, parseWwwAuthenticate } from "./www-authenticate.js";

export interface RegistryRequestOptions {
  /** hosts (`host:port` or `host`) spoken to over plain HTTP; every other registry is https */
  insecureRegistries?: readonly string[];
  credentials?: CredentialsProvider;
  retry?: Partial<RetryPolicy>;
  stats?: TransferStats;
  fetch?: typeof fetch;
  userAgent?: string;
  /**
   * Whether credentials may go to a token realm on another host or port than the registry's
   * (the registry allow list); unset = any realm, as when a user names the image themselves.
   */
  tokenRealmAllowed?: (host: string) => boolean;
}

export interface RegistryRequestInit {
  /** the registry as users name it (credentials are looked up by it): "docker.io" */
  registry: string;
  /** host[:port] the API lives on: "registry-1.docker.io" */
  apiHost: string;
  /** the repository whose pull scope the request needs */
  repository: string;
  /** "/v2/library/alpine/manifests/latest" */
  path: string;
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** manifests and configs are small metadata; "blob" is a layer download */
  kind: "manifest" | "config" | "blob";
  /** names the thing in errors: "manifest docker.io/library/alpine:latest" */
  what: string;
}

/** Sends one registry request with auth, retry and rate limiting applied; resolves only with a 2xx. */
export type RegistryRequest = (init: RegistryRequestInit) => Promise<Response>;

interface CachedToken {
  authorization: string;
  expiresAt: number;
}

/** Distribution's token response; OAuth2 servers (ACR) answer `access_token` instead of `token`. */
const TokenResponseSchema = z.looseObject({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** a token is dropped this long before the registry says it expires, so it never expires in flight */
const TOKEN_EXPIRY_MARGIN_MS = 10_000;
const NOT_RETRIED_NETWORK_CODES = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|UNABLE_TO_|SELF_SIGNED|ENOTFOUND)/;

/**
 * The one place around `fetch` where cross-cutting registry behaviour lives: scheme choice,
 * anonymous → Basic → Bearer auth with per-scope token caching, one re-auth on 401, Retry-After on
 * 429, bounded exponential backoff on 5xx and connection resets, and status → ScanError mapping.
 */
export function createRegistryRequest(options: RegistryRequestOptions = {}): RegistryRequest {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const stats = options.stats ?? new TransferStats();
  const doFetch = options.fetch ?? globalThis.fetch;
  const insecure = new Set((options.insecureRegistries ?? []).map((h) => h.toLowerCase()));
  const challenges = new Map<string, AuthChallenge>();
  const tokens = new Map<string, CachedToken>();
  const userAgent = options.userAgent ?? "portcullis";

  const isInsecure = (host: string): boolean =>
    insecure.has(host.toLowerCase()) || insecure.has(host.toLowerCase().replace(/:\d+$/, ""));
  const baseUrl = (apiHost: string): string => `${isInsecure(apiHost) ? "http" : "https"}://${apiHost}`;

  async function send(url: string, init: RequestInit, what: string): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      stats.requests++;
      let response: Response;
      try {
        response = await doFetch(url, { ...init, redirect: "follow" });
      } catch (err) {
        const code = networkErrorCode(err);
        if (attempt >= policy.maxAttempts || NOT_RETRIED_NETWORK_CODES.test(code)) {
          throw networkError(err, code, url, what, attempt);
        }
        stats.retries++;
        await policy.sleep(backoffDelay(policy, attempt));
        continue;
      }
      if (isRetryableStatus(response.status) && attempt < policy.maxAttempts) {
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"), policy);
        await response.body?.cancel();
        stats.retries++;
        await policy.sleep(retryAfter ?? backoffDelay(policy, attempt));
        continue;
      }
      return response;
    }
  }

  async function credentialFor(registry: string): Promise<RegistryCredential | undefined> {
    return options.credentials ? options.credentials(registry) : undefined;
  }

  async function fetchToken(
    init: RegistryRequestInit,
    challenge: AuthChallenge,
    scope: string,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw unauthorized(init, "the registry's Bearer challenge names no realm");
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw unauthorized(init, `the registry's token realm "${realm}" is not a URL`);
    }
    if (realmUrl.protocol === "http:" && !isInsecure(realmUrl.host) && !isInsecure(init.apiHost)) {
      throw unauthorized(
        init,
        `the token realm ${realm} is plain HTTP; name it with --insecure-registry to allow it`,
      );
    }
    if (realmUrl.protocol !== "http:" && realmUrl.protocol !== "https:") {
      throw unauthorized(init, `the token realm ${realm} is not an http(s) URL`);
    }
    const realmHost = realmUrl.host.toLowerCase();
    const ownHost = realmHost === init.apiHost.toLowerCase() || realmHost === init.registry.toLowerCase();
    // a registry (or whoever answers for it) must not redirect our credentials to a host of its choosing
    const withheld =
      !ownHost && options.tokenRealmAllowed !== undefined && !options.tokenRealmAllowed(realmHost);
    const credential = withheld ? undefined : await credentialFor(init.registry);
    const service = challenge.params.service;
    const headers: Record<string, string> = { "user-agent": userAgent, accept: "application/json" };
    let requestInit: RequestInit;
    if (credential?.kind === "refresh-token") {
      // OAuth2 refresh-token grant: Docker identity tokens and ACR refresh tokens both use it
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: credential.token,
        scope,
      });
      if (service) form.set("service", service);
      form.set("client_id", userAgent);
      headers["content-type"] = "application/x-www-form-urlencoded";
      requestInit = { method: "POST", headers, body: form.toString() };
    } else {
      if (service) realmUrl.searchParams.set("service", service);
      realmUrl.searchParams.set("scope", scope);
      if (credential?.kind === "basic") headers.authorization = basicAuthorization(credential);
      requestInit = { method: "GET", headers };
    }
    stats.tokenRequests++;
    const response = await send(realmUrl.toString(), requestInit, `token for ${init.what}`);
    if (response.status === 401 || response.status === 403) {
      const detail = await errorDetail(response);
      const who = credential
        ? "the configured credentials were refused"
        : withheld
          ? `credentials were withheld (token realm ${realmHost} is not on the registry allow list) and anonymous access was refused`
          : "anonymous access was refused";
      throw unauthorized(init, `${who} by the token service ${realmUrl.origin}${detail}`);
    }
    if (!response.ok) {
      const detail = await errorDetail(response);
      throw new ScanError(
        "token-request-failed",
        `${init.what}: token service ${realmUrl.origin} answered ${response.status}${detail}`,
        { permanent: response.status < 500 },
      );
    }
    const body = await readBoundedBody(
      response,
      MAX_TOKEN_RESPONSE_BYTES,
      `token response from ${realmUrl.origin}`,
    );
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      json = undefined;
    }
    const parsed = TokenResponseSchema.safeParse(json);
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed.success || token === undefined) {
      throw unauthorized(init, `the token service ${realmUrl.origin} returned no token`);
    }
    // Distribution's default lifetime when the token service does not say
    const expiresIn = parsed.data.expires_in ?? 60;
    return {
      authorization: `Bearer ${token}`,
      expiresAt: policy.now() + Math.max(0, expiresIn * 1000 - TOKEN_EXPIRY_MARGIN_MS),
    };
  }

  /** The Authorization header for a request under `challenge`, from the cache when still valid. */
  async function authorize(
    init: RegistryRequestInit,
    challenge: AuthChallenge,
    scope: string,
  ): Promise<string | undefined> {
    if (challenge.scheme === "basic") {
      const credential = await credentialFor(init.registry);
      return credential?.kind === "basic" ? basicAuthorization(credential) : undefined;
    }
    if (challenge.scheme !== "bearer") {
      throw unauthorized(init, `the registry asks for unsupported "${challenge.scheme}" authentication`);
    }
    const key = tokenKey(init.apiHost, challenge, scope);
    const cached = tokens.get(key);
    if (cached && cached.expiresAt > policy.now()) return cached.authorization;
    const fresh = await fetchToken(init, challenge, scope);
    tokens.set(key, fresh);
    return fresh.authorization;
  }

  return async function registryRequest(init) {
    const scope = `repository:${init.repository}:pull`;
    const url = `${baseUrl(init.apiHost)}${init.path}`;
    const known = challenges.get(init.apiHost);
    let authorization = known ? await authorize(init, known, scope) : undefined;
    for (let reauthenticated = false; ; reauthenticated = true) {
      const headers: Record<string, string> = { "user-agent": userAgent, ...init.headers };
      if (authorization) headers.authorization = authorization;
      if (init.kind === "manifest") stats.manifestRequests++;
      else if (init.kind === "config") stats.configRequests++;
      else stats.blobRequests++;
      const response = await send(url, { method: init.method ?? "GET", headers }, init.what);
      if (response.ok) return response;
      if (response.status !== 401) throw await statusError(response, init);
      const challenge = parseWwwAuthenticate(response.headers.get("www-authenticate"));
      await response.body?.cancel();
      if (reauthenticated || !challenge) {
        const why = authorization
          ? "the registry refused the credentials (401)"
          : "the registry requires authentication (401) and no credentials are configured for it";
        throw unauthorized(init, why);
      }
      challenges.set(init.apiHost, challenge);
      tokens.delete(tokenKey(init.apiHost, challenge, scope));
      authorization = await authorize(init, challenge, scope);
      if (!authorization) {
        throw unauthorized(
          init,
          `the registry requires authentication (401) and no credentials are configured for ${init.registry}`,
        );
      }
    }
  };
}

function tokenKey(apiHost: string, challenge: AuthChallenge, scope: string): string {
  return [apiHost, challenge.params.realm ?? "", challenge.params.service ?? "", scope].join("\n");
}

function basicAuthorization(credential: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString("base64")}`;
}

function unauthorized(init: RegistryRequestInit, why: string): ScanError {
  return new ScanError("unauthorized", `${init.what}: ${why}`, { permanent: true });
}

async function errorDetail(response: Response): Promise<string> {
  try {
    const body = await readBoundedBody(response, MAX_ERROR_BODY_BYTES, "error body");
    const json = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = json.errors?.[0];
    if (first) return `: ${[first.code, first.message].filter((x) => typeof x === "string").join(" ")}`;
  } catch {
    // a registry error body is optional and often not JSON
  }
  return "";
}

async function statusError(response: Response, init: RegistryRequestInit): Promise<ScanError> {
  const detail = await errorDetail(response);
  const status = response.status;
  if (status === 403) {
    return new ScanError("denied", `${init.what}: access denied (403)${detail}`, { permanent: true });
  }
  if (status === 404) {
    return new ScanError("not-found", `${init.what}: not found (404)${detail}`, { permanent: true });
  }
  if (status === 429) {
    return new ScanError("rate-limited", `${init.what}: still rate limited (429) after retries${detail}`, {
      permanent: false,
    });
  }
  if (status >= 500) {
    return new ScanError(
      "registry-unavailable",
      `${init.what}: registry error ${status} after retries${detail}`,
      {
        permanent: false,
      },
    );
  }
  return new ScanError("registry-error", `${init.what}: unexpected status ${status}${detail}`, {
    permanent: true,
  });
}

function networkErrorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  if (typeof cause?.code === "string") return cause.code;
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" ? code : "";
}

function networkError(err: unknown, code: string, url: string, what: string, attempts: number): ScanError {
  const origin = new URL(url).origin;
  const reason =
    (err as { cause?: { message?: string } })?.cause?.message ?? (err as Error)?.message ?? String(err);
  const hint = /WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG/.test(code)
    ? " (does the registry speak plain HTTP? name it with --insecure-registry)"
    : "";
  return new ScanError(
    "registry-unreachable",
    `${what}: cannot reach ${origin} after ${attempts} attempt(s): ${reason}${hint}`,
    {
      permanent: false,
      cause: err,
    },
  );
}
