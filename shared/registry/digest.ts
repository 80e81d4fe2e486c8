import { createHash, type Hash } from "node:crypto";
import { parseDigest } from "../model/digest.js";
import { ScanError } from "../model/errors.js";

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
