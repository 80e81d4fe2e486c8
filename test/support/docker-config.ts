import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * Writes a Docker client config (`config.json` with `auths`) into a new temp dir and returns the
 * dir, to be passed as `DOCKER_CONFIG`; with no entries it is an empty config that shadows ~/.docker.
 */
export async function writeDockerConfig(auths: Record<string, RegistryCredentials> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-docker-config-"));
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, c]) => [
      host,
      { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") },
    ]),
  );
  await writeFile(path.join(dir, "config.json"), `${JSON.stringify({ auths: entries }, null, 2)}\n`, {
    mode: 0o600,
  });
  return dir;
}
