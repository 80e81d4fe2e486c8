import { z } from "zod";
import { ScanError } from "./errors.js";

/** The digest algorithms the scanner verifies, with the length of their hex. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

/** The one digest pattern: `sha256:<64 hex>` or `sha512:<128 hex>`, lower-case, nothing looser. */
export const DIGEST_PATTERN = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export const isDigest = (value: string): boolean => DIGEST_PATTERN.test(value);

/**
 * The OCI descriptor grammar (`algorithm:encoded`), looser on purpose: a manifest may name an
 * algorithm the scanner does not verify, and `parseDigest` then says `unsupported-digest` rather
 * than the whole manifest failing as malformed.
 */
export const DescriptorDigestSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, "not a digest");

export const DigestSchema = z.string().regex(DIGEST_PATTERN, "not a sha256/sha512 digest");

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Splits `sha256:<hex>`; anything else (unknown algorithm, bad hex) is a permanent error. */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  if (colon < 0 || !Object.hasOwn(ALGORITHMS, algorithm)) {
    throw new ScanError(
      "unsupported-digest",
      `unsupported digest "${digest.slice(0, 80)}" (sha256 and sha512 only)`,
    );
  }
  if (!isDigest(digest)) throw new ScanError("invalid-digest", `malformed digest "${digest.slice(0, 160)}"`);
  return { algorithm: algorithm as DigestAlgorithm, hex: digest.slice(colon + 1) };
}
