import { createHash, timingSafeEqual } from "node:crypto";
import { type HeaderBag, headerValue } from "./headers.js";

/**
 * How registry hooks authenticate (Distribution, ACR and Harbor sign nothing; they send a configured
 * header): `Authorization: Bearer <token>`, or a shared secret in a header of our choosing.
 */
export interface HookAuthConfig {
  bearerToken?: string;
  sharedSecret?: { header: string; value: string };
}

/** True when the request carries a configured credential. Nothing configured means nobody gets in. */
export function isAuthorizedHook(headers: HeaderBag, config: HookAuthConfig): boolean {
  let ok = false;
  if (config.bearerToken) {
    const match = /^Bearer\s+(.+)$/i.exec(headerValue(headers, "authorization")?.trim() ?? "");
    ok = constantTimeEquals(match?.[1]?.trim() ?? "", config.bearerToken) || ok;
  }
  if (config.sharedSecret?.value) {
    const given = headerValue(headers, config.sharedSecret.header)?.trim() ?? "";
    ok = constantTimeEquals(given, config.sharedSecret.value) || ok;
  }
  return ok;
}

/** Compares fixed-length hashes, so neither the content nor the length of the secret leaks through timing. */
export function constantTimeEquals(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}
