import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const PID_FILE = "azurite.pid";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether `pid` is an Azurite serving `dataDir` (checked on /proc where there is one, so a recycled pid is left alone). */
async function isAzuriteOn(pid: number, dataDir: string): Promise<boolean> {
  if (!alive(pid)) return false;
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    return cmdline.some((a) => a.includes("azurite")) && cmdline.includes(dataDir);
  } catch {
    // no /proc (macOS, Windows): the pid file is the only evidence, and it names our Azurite
    return process.platform !== "linux";
  }
}

/**
 * Ends an Azurite left running on `dataDir` by a host that died (its pid file says which), so
 * two instances never write the same data directory. Returns the pid it stopped, if any.
 */
export async function stopStaleAzurite(
  dataDir: string,
  log?: (line: string) => void,
): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(path.join(dataDir, PID_FILE), "utf8"), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  if (!(await isAzuriteOn(pid, dataDir))) return undefined;
  log?.(`azurite: a stale instance (pid ${pid}) holds ${dataDir}; stopping it and taking over`);
  process.kill(pid, "SIGTERM");
  for (let waited = 0; waited < 5_000 && alive(pid); waited += 50) await sleep(50);
  if (alive(pid)) process.kill(pid, "SIGKILL");
  for (let waited = 0; waited < 5_000 && alive(pid); waited += 50) await sleep(50);
  return pid;
}

export async function writeAzuritePid(dataDir: string, pid: number): Promise<void> {
  await writeFile(path.join(dataDir, PID_FILE), `${pid}\n`);
}

export async function removeAzuritePid(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, PID_FILE), { force: true });
}
