import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ScanError } from "../model/errors.js";
import { canonicalRegistry } from "../model/image-reference.js";
import type { CredentialsProvider, RegistryCredential } from "./registry-credentials.js";

const AuthEntrySchema = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});
const DockerConfigSchema = z.looseObject({
  auths: z.record(z.string(), AuthEntrySchema).optional(),
});

const MAX_CONFIG_BYTES = 1024 * 1024;

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

/** `https://index.docker.io/v1/` and `docker.io` name the same registry; so do `host` and `https://host/`. */
function registryKey(key: string): string {
  return canonicalRegistry(key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, ""));
}

function toCredential(
  entry: z.infer<typeof AuthEntrySchema>,
  key: string,
  file: string,
): RegistryCredential | undefined {
  if (entry.identitytoken) {
    return entry.username
      ? { kind: "refresh-token", token: entry.identitytoken, username: entry.username }
      : { kind: "refresh-token", token: entry.identitytoken };
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new ScanError(
        "invalid-docker-config",
        `${file}: auths["${key}"].auth is not base64 of "user:password"`,
      );
    }
    return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { kind: "basic", username: entry.username, password: entry.password };
  }
  return undefined;
}

/**
 * Reads the `auths` of a Docker config file into a CredentialsProvider. A missing file means no
 * credentials; a malformed one is an error (silently going anonymous would hide the mistake).
 * Credential helpers (`credsStore`, `credHelpers`) are not run: the scanner executes nothing.
 */
export async function loadDockerConfigCredentials(
  file: string = dockerConfigPath(),
): Promise<CredentialsProvider> {
  let text: string;
  try {
    const data = await readFile(file);
    if (data.length > MAX_CONFIG_BYTES)
      throw new ScanError("invalid-docker-config", `${file}: larger than 1 MiB`);
    text = data.toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return async () => undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ScanError("invalid-docker-config", `${file}: not JSON`);
  }
  const parsed = DockerConfigSchema.safeParse(json);
  if (!parsed.success)
    throw new ScanError("invalid-docker-config", `${file}: ${parsed.error.issues[0]?.message}`);
  const byRegistry = new Map<string, RegistryCredential>();
  for (const [key, entry] of Object.entries(parsed.data.auths ?? {})) {
    const credential = toCredential(entry, key, file);
    if (credential && !byRegistry.has(registryKey(key))) byRegistry.set(registryKey(key), credential);
  }
  return async (registry) => byRegistry.get(registryKey(registry));
}
