import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const TOKEN_FILE = "hook-token";

/**
 * The bearer token registries must send to the local host's hooks: generated on first start and
 * kept in the data dir, so a registry configured once keeps working across restarts.
 */
export async function readOrCreateHookToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, TOKEN_FILE);
  try {
    const token = (await readFile(file, "utf8")).trim();
    if (token) return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  // wx: two hosts starting at once must not both write a different token
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return (await readFile(file, "utf8")).trim();
    throw err;
  }
}
