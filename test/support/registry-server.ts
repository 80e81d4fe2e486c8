import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import { freePort } from "./free-port.js";
import { runTool } from "./run-tool.js";
import { startTokenServer, type TokenServer } from "./token-server.js";

export type RegistryAuthMode = "anonymous" | "basic" | "bearer";

/** One `notifications.endpoints` entry of the registry config (durations as Go strings: "1s"). */
export interface NotificationEndpoint {
  url: string;
  name?: string;
  /** sent as `Authorization: Bearer <token>` on every notification */
  bearerToken?: string;
  headers?: Record<string, string[]>;
  timeout?: string;
  threshold?: number;
  backoff?: string;
  ignoredMediaTypes?: string[];
  ignore?: { mediatypes?: string[]; actions?: string[] };
}

export interface RegistryOptions {
  auth?: RegistryAuthMode;
  /** credentials for basic/bearer; a random password is made when omitted */
  username?: string;
  password?: string;
  notifications?: NotificationEndpoint[];
  /** lifetime of bearer tokens */
  tokenTtlSeconds?: number;
  /**
   * accept manifests whose foreign / non-distributable layers carry http(s) `urls`
   * (`validation.manifests.urls.allow`), as registries holding Windows images do
   */
  allowForeignLayerUrls?: boolean;
}

export interface RegistryServer {
  /** http://127.0.0.1:port */
  url: string;
  /** 127.0.0.1:port — what `--insecure-registry` and image references name */
  host: string;
  auth: RegistryAuthMode;
  username?: string;
  password?: string;
  tokenServer?: TokenServer;
  storageDir: string;
  /** the registry's own log so far, for failure messages */
  logs(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave registries behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function notificationsConfig(endpoints: NotificationEndpoint[]): unknown {
  return {
    events: { includereferences: true },
    endpoints: endpoints.map((e, i) => ({
      name: e.name ?? `endpoint-${i}`,
      url: e.url,
      headers: { ...e.headers, ...(e.bearerToken ? { Authorization: [`Bearer ${e.bearerToken}`] } : {}) },
      timeout: e.timeout ?? "2s",
      threshold: e.threshold ?? 5,
      backoff: e.backoff ?? "1s",
      ...(e.ignoredMediaTypes ? { ignoredmediatypes: e.ignoredMediaTypes } : {}),
      ...(e.ignore ? { ignore: e.ignore } : {}),
    })),
  };
}

async function waitUntilServing(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited ${child.exitCode}:\n${logs().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`docker-registry did not answer on ${url}:\n${logs().slice(-2000)}`);
}

/**
 * Starts the real Distribution registry (Debian's `docker-registry`) on 127.0.0.1 with a temp
 * storage dir: anonymous, htpasswd Basic, or Bearer tokens from a token server of our own.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryServer> {
  const auth = options.auth ?? "anonymous";
  const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-registry-"));
  const storageDir = path.join(work, "storage");
  await mkdir(storageDir);
  const username = auth === "anonymous" ? undefined : (options.username ?? "portcullis");
  const password = auth === "anonymous" ? undefined : (options.password ?? randomBytes(12).toString("hex"));

  let authConfig: unknown;
  let tokenServer: TokenServer | undefined;
  if (auth === "basic") {
    const htpasswd = path.join(work, "htpasswd");
    const { stdout } = await runTool("htpasswd", ["-Bbn", username!, password!]);
    await writeFile(htpasswd, stdout);
    authConfig = { htpasswd: { realm: "portcullis-test", path: htpasswd } };
  } else if (auth === "bearer") {
    tokenServer = await startTokenServer({
      users: { [username!]: password! },
      ttlSeconds: options.tokenTtlSeconds,
    });
    authConfig = {
      token: {
        realm: tokenServer.realm,
        service: tokenServer.service,
        issuer: tokenServer.issuer,
        rootcertbundle: tokenServer.certPath,
      },
    };
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = {
      version: 0.1,
      log: { level: "info", formatter: "text", accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: storageDir },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: host,
        secret: randomBytes(16).toString("hex"),
        headers: { "X-Content-Type-Options": ["nosniff"] },
      },
      ...(authConfig ? { auth: authConfig } : {}),
      ...(options.allowForeignLayerUrls
        ? { validation: { manifests: { urls: { allow: ["^https?://"] } } } }
        : {}),
      ...(options.notifications?.length ? { notifications: notificationsConfig(options.notifications) } : {}),
    };
    const configPath = path.join(work, "config.yml");
    await writeFile(configPath, stringify(config));

    const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let log = "";
    const append = (c: Buffer) => {
      log = (log + c.toString()).slice(-200_000);
    };
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const url = `http://${host}`;
    try {
      await waitUntilServing(url, child, () => log);
    } catch (err) {
      child.kill("SIGKILL");
      running.delete(child);
      // Another process may have taken the port between probe and bind: try a new one.
      if (attempt < 3 && /address already in use/.test(log)) continue;
      await tokenServer?.stop();
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    return {
      url,
      host,
      auth,
      username,
      password,
      tokenServer,
      storageDir,
      logs: () => log,
      async stop() {
        if (child.exitCode === null) {
          child.kill("SIGTERM");
          await Promise.race([exited, sleep(5_000).then(() => child.kill("SIGKILL"))]);
        }
        running.delete(child);
        await tokenServer?.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  }
}
