import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { TransferStats } from "../../shared/registry/transfer-stats.js";
import { corpusPath } from "../support/corpus.js";

const REGISTRY_BIN = "/usr/bin/docker-registry";
const SKOPEO_BIN = "/usr/bin/skopeo";
const TRIVY_OCI = corpusPath("images/trivy/test.oci");
const available = existsSync(REGISTRY_BIN) && existsSync(SKOPEO_BIN);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForRegistry(host: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry on ${host} did not start`);
}

async function readAll(stream: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

describe.skipIf(!available)("against the real Distribution registry (docker-registry on 127.0.0.1)", () => {
  let child: ChildProcess;
  let host = "";
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-distribution-"));
    host = `127.0.0.1:${await freePort()}`;
    const config = `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${host}\n`;
    await writeFile(path.join(dir, "config.yml"), config);
    child = spawn(REGISTRY_BIN, ["serve", path.join(dir, "config.yml")], { stdio: "ignore" });
    await waitForRegistry(host);
    await promisify(execFile)(SKOPEO_BIN, [
      "copy",
      "--dest-tls-verify=false",
      `oci:${TRIVY_OCI}`,
      `docker://${host}/scanner/trivy-test:v1`,
    ]);
  });

  afterAll(async () => {
    child?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("resolves a pushed image by tag and by digest, and streams its layer verified", async () => {
    const stats = new TransferStats();
    const byTag = await openImageSource(`${host}/scanner/trivy-test:v1`, {
      insecureRegistries: [host],
      stats,
    });
    const [image] = await byTag.resolve();
    expect(image?.identity).toMatchObject({ registry: host, repository: "scanner/trivy-test", tags: ["v1"] });
    expect(image?.layers.map((l) => l.digest)).toEqual([
      "sha256:cdd16bd695eda2819e7637648f573c2ca64896c4f7bff9732ac9db734ca3bc2c",
    ]);
    expect(await readAll(await byTag.openBlob(image?.layers[0] as never))).toBe(2610);

    const byDigest = await openImageSource(`${host}/scanner/trivy-test@${image?.identity.digest}`, {
      insecureRegistries: [host],
      stats,
    });
    const [again] = await byDigest.resolve();
    expect(again?.identity.digest).toBe(image?.identity.digest);
    expect(stats.blobsOpened).toBe(1);
  });

  it("answers not-found for a tag the registry does not have", async () => {
    const source = await openImageSource(`${host}/scanner/trivy-test:missing`, {
      insecureRegistries: [host],
    });
    await expect(source.resolve()).rejects.toMatchObject({
      code: "not-found",
      message: expect.stringContaining("MANIFEST_UNKNOWN"),
    });
  });
});
