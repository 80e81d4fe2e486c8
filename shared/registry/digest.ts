import { createHash, type Hash } from "node:crypto";
import { ScanError } from "../model/errors.js";

const SUPPORTED: Record<string, { hash: string; hexLength: number }> = {
  sha256: { hash: "sha256", hexLength: 64 },
  sha512: { hash: "sha512", hexLength: 128 },
};

export interface ParsedDigest {
  algorithm: "sha256" | "sha512";
  hex: string;
}

/** Splits `sha256:<hex>`; anything else (unknown algorithm, bad hex) is a permanent error. */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const spec = SUPPORTED[algorithm];
  if (colon < 0 || !spec) {
    throw new ScanError(
      "unsupported-digest",
      `unsupported digest "${digest.slice(0, 80)}" (sha256 and sha512 only)`,
    );
  }
  if (hex.length !== spec.hexLength || !/^[a-f0-9]+$/.test(hex)) {
    throw new ScanError("invalid-digest", `malformed digest "${digest.slice(0, 160)}"`);
  }
  return { algorithm: algorithm as ParsedDigest["algorithm"], hex };
}

export function createDigestHash(digest: string): Hash {
  return createHash(parseDigest(digest).algorithm);
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Checks bytes fetched by digest; `what` names them in the error ("manifest of docker.io/library/alpine"). */
export function verifyDigest(data: Buffer, digest: string, what: string): void {
  const { algorithm, hex } = parseDigest(digest);
  const actual = createHash(algorithm).update(data).digest("hex");
  if (actual !== hex) {
    throw new ScanError(
      "digest-mismatch",
      `${what}: content does not match ${digest} (got ${algorithm}:${actual})`,
    );
  }
}
