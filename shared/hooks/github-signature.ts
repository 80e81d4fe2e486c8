import { verify } from "@octokit/webhooks-methods";

const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;

/**
 * Checks `X-Hub-Signature-256` (`sha256=` + hex HMAC-SHA256 of the raw body under the webhook
 * secret). Must run on the bytes as received: re-serialised JSON would not match. Anything missing,
 * malformed or not UTF-8 is simply not verified.
 */
export async function verifyGitHubSignature(
  secret: string,
  rawBody: string | Uint8Array,
  signatureHeader: string | undefined,
): Promise<boolean> {
  if (!secret || !signatureHeader || !SIGNATURE.test(signatureHeader.trim())) return false;
  let text: string;
  try {
    // octokit hashes the UTF-8 of a string: bytes that are not UTF-8 would not round-trip.
    text = typeof rawBody === "string" ? rawBody : new TextDecoder("utf-8", { fatal: true }).decode(rawBody);
  } catch {
    return false;
  }
  try {
    return await verify(secret, text, signatureHeader.trim());
  } catch {
    return false;
  }
}
