import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../support/cli.js";
import { distributionPush } from "../pipeline/notifications.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `portcullis serve` on `dataDir` as its own process; resolves once it listens. */
async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(REPO_ROOT, "shared/cli/run.ts"),
      "serve",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--insecure-registry",
      "127.0.0.1:5999",
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stdout}`)), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (listening && /hook token: (\S+)/.test(stdout)) {
        clearTimeout(timer);
        resolve(listening[1]!);
      }
    });
    child.stderr!.resume();
    child.once("exit", (code) => reject(new Error(`serve exited ${code}:\n${stdout}`)));
  });
  return { child, url, token: /hook token: (\S+)/.exec(stdout)![1]! };
}

it("a push answered 202 survives a SIGKILL of serve and its Azurite right after the answer", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-crash-"));
  const children: ChildProcess[] = [];
  try {
    const first = await serve(dataDir);
    children.push(first.child);
    const body = distributionPush("127.0.0.1:5999", "crash/app", "v1", `sha256:${"e".repeat(64)}`, "crash-1");
    const res = await fetch(`${first.url}/api/hooks/distribution`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${first.token}`,
        "content-type": "application/vnd.docker.distribution.events.v2+json",
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    first.child.kill("SIGKILL");
    const { accepted } = (await res.json()) as { accepted: { scanId: string }[] };
    const scanId = accepted[0]!.scanId;
    // Azurite goes with its parent
    const azuritePid = Number.parseInt(
      await readFile(path.join(dataDir, "azurite", "azurite.pid"), "utf8"),
      10,
    );
    for (let i = 0; i < 200 && alive(azuritePid); i++) await sleep(50);
    expect(alive(azuritePid)).toBe(false);

    const second = await serve(dataDir);
    children.push(second.child);
    const status = await fetch(`${second.url}/api/scans/${scanId}`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect(status.status).toBe(200);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await sleep(500);
    await rm(dataDir, { recursive: true, force: true });
  }
});
