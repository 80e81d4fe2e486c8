import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../support/cli.js";

it("`portcullis serve` prints its URL and hook token, answers, and stops cleanly on SIGTERM", async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-serve-"));
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
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    let stdout = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stdout}`)), 60_000);
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        const token = /hook token: (\S+)/.exec(stdout);
        const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (token && listening) {
          clearTimeout(timer);
          resolve(listening[1]!);
        }
      });
      child.once("exit", (code) => reject(new Error(`serve exited ${code}:\n${stdout}`)));
    });
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    const token = /hook token: (\S+)/.exec(stdout)![1];
    expect((await readFile(path.join(dataDir, "hook-token"), "utf8")).trim()).toBe(token);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
