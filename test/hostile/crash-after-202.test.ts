import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { distributionPush } from "../pipeline/notifications.js";
import { killHard, type ServeChild, startServeChild } from "./support/serve-child.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each([
  ["SQLite, the default store (durable on commit)", "sqlite"],
  ["Azurite (the intake journal makes the 202 durable)", "azurite"],
] as const)("a push answered 202 survives a SIGKILL of serve right after the answer: %s", (_name, store) => {
  it("still knows the scan after a restart on the same data dir", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-crash-"));
    const env = { PORTCULLIS_LOCAL_STORE: store };
    const children: ServeChild[] = [];
    try {
      const first = await startServeChild(dataDir, { env });
      children.push(first);
      const body = distributionPush(
        "127.0.0.1:5999",
        "crash/app",
        "v1",
        `sha256:${"e".repeat(64)}`,
        "crash-1",
      );
      const res = await fetch(`${first.url}/api/hooks/distribution`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${first.token}`,
          "content-type": "application/vnd.docker.distribution.events.v2+json",
        },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
      const { accepted } = (await res.json()) as { accepted: { scanId: string }[] };
      await killHard(first);
      const scanId = accepted[0]!.scanId;
      if (store === "azurite") {
        // Azurite goes with its parent
        const azuritePid = Number.parseInt(
          await readFile(path.join(dataDir, "azurite", "azurite.pid"), "utf8"),
          10,
        );
        for (let i = 0; i < 200 && alive(azuritePid); i++) await sleep(50);
        expect(alive(azuritePid)).toBe(false);
      }

      const second = await startServeChild(dataDir, { env });
      children.push(second);
      const status = await fetch(`${second.url}/api/scans/${scanId}`, {
        headers: { authorization: `Bearer ${second.token}` },
      });
      expect(status.status).toBe(200);
    } finally {
      for (const child of children) await killHard(child);
      await sleep(300);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
