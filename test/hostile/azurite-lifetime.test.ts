import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startAzurite } from "../../shared/local/azurite.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function untilDead(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

/** Starts a parent process that starts Azurite on `dataDir`; resolves with both once it listens. */
function parentWithAzurite(dataDir: string): Promise<{ parent: ChildProcess; azuritePid: number }> {
  // node itself with tsx's loader: the tsx command would put a wrapper process in between
  const parent = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "support/azurite-parent.ts"), dataDir],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    parent.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve({ parent, azuritePid: (JSON.parse(line) as { pid: number }).pid });
    });
    parent.once("exit", (code) => reject(new Error(`parent exited with ${code}: ${out}`)));
  });
}

describe("the embedded Azurite's lifetime", () => {
  const dirs: string[] = [];
  const started: number[] = [];
  afterAll(async () => {
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("dies with its parent when the parent is killed with SIGKILL", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-azurite-"));
    dirs.push(dataDir);
    const { parent, azuritePid } = await parentWithAzurite(dataDir);
    started.push(azuritePid);
    expect(alive(azuritePid)).toBe(true);
    parent.kill("SIGKILL");
    expect(await untilDead(azuritePid)).toBe(true);
  });

  it("a restart on the same data dir takes over from a stale instance", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-azurite-"));
    dirs.push(dataDir);
    const first = await startAzurite({ dataDir, dieWithParent: false });
    started.push(first.pid);
    // the first is left running, as if its parent had died without taking it along
    const second = await startAzurite({ dataDir });
    started.push(second.pid);
    try {
      expect(await untilDead(first.pid)).toBe(true);
      expect(second.pid).not.toBe(first.pid);
      const res = await fetch(`${second.blobUrl}?comp=list`);
      expect(res.status).toBeLessThan(500);
    } finally {
      await second.stop();
    }
  });
});
