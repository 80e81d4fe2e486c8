import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomUUID, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";

/** One `access` entry of a Docker registry token (distribution's ResourceActions). */
export interface TokenAccess {
  type: string;
  name: string;
  actions: string[];
}

/** An RSA key with a self-signed certificate: the cert is the registry's `rootcertbundle`. */
export interface TokenSigningKey {
  privateKey: KeyObject;
  certPath: string;
  /** base64 DER of the certificate, sent as the JWT header's `x5c` chain */
  certDer: string;
  /** libtrust fingerprint of the public key, which distribution accepts as `kid` */
  keyId: string;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/** libtrust's key ID: base32 of the first 240 bits of sha256(SPKI DER), in groups of four joined by ':'. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const hash = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const byte of hash.subarray(0, 30)) bits += byte.toString(2).padStart(8, "0");
  let b32 = "";
  for (let i = 0; i < bits.length; i += 5) b32 += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return b32.match(/.{4}/g)!.join(":");
}

/** Makes a fresh signing key and self-signed certificate with openssl, in `dir`. */
export async function createTokenSigningKey(dir: string): Promise<TokenSigningKey> {
  const keyPath = path.join(dir, "key.pem");
  const certPath = path.join(dir, "cert.pem");
  await runTool("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-days",
    "3",
    "-subj",
    "/CN=portcullis test token issuer",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  const privateKey = createPrivateKey(await readFile(keyPath));
  const certPem = await readFile(certPath, "utf8");
  const certDer = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, "");
  return { privateKey, certPath, certDer, keyId: libtrustKeyId(createPublicKey(privateKey)) };
}

export interface TokenClaims {
  issuer: string;
  service: string;
  subject: string;
  access: TokenAccess[];
  ttlSeconds: number;
}

/** Signs a registry bearer token (RS256 JWT) the way distribution 2.8's token auth verifies it. */
export function signRegistryToken(key: TokenSigningKey, claims: TokenClaims, now = new Date()): string {
  const iat = Math.floor(now.getTime() / 1000);
  const header = { typ: "JWT", alg: "RS256", kid: key.keyId, x5c: [key.certDer] };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.service,
    exp: iat + claims.ttlSeconds,
    nbf: iat - 1,
    iat,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${b64url(sign("sha256", Buffer.from(signingInput), key.privateKey))}`;
}
