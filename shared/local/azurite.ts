import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { removeAzuritePid, stopStaleAzurite, writeAzuritePid } from "./azurite-pid-file.js";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteInstance {
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  /** a connection string for the Azure SDK clients */
  connectionString: string;
  /** the Azurite process */
  pid: number;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** where Azurite keeps its data; omit for in-memory (tests) */
  dataDir?: string;
  host?: string;
  /** end Azurite when this process ends, even by SIGKILL (default true) */
  dieWithParent?: boolean;
  log?: (line: string) => void;
}

/**
 * Loaded into Azurite's process: its stdin is a pipe from us, and the kernel closes the pipe when we
 * die however we die, so end-of-input means the parent is gone.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  'process.stdin.on("end",()=>process.exit(0));process.stdin.on("error",()=>process.exit(0));process.stdin.resume();',
)}`;

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function azuriteBin(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("azurite/package.json");
  return path.join(path.dirname(pkg), "dist", "src", "azurite.js");
}

/**
 * Starts the npm `azurite` package on free loopback ports, with telemetry off, and waits until all
 * three services listen. The embedded storage of `portcullis serve` and of the integration tests.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const host = options.host ?? "127.0.0.1";
  for (let attempt = 0; ; attempt++) {
    const [blobPort, queuePort, tablePort] = [
      await freePort(host),
      await freePort(host),
      await freePort(host),
    ];
    const dieWithParent = options.dieWithParent ?? true;
    const args = [
      ...(dieWithParent ? ["--import", EXIT_WITH_PARENT] : []),
      azuriteBin(),
      "--disableTelemetry",
      "--silent",
      "--skipApiVersionCheck",
      "--blobHost",
      host,
      "--blobPort",
      String(blobPort),
      "--queueHost",
      host,
      "--queuePort",
      String(queuePort),
      "--tableHost",
      host,
      "--tablePort",
      String(tablePort),
    ];
    if (options.dataDir) {
      await mkdir(options.dataDir, { recursive: true });
      await stopStaleAzurite(options.dataDir, options.log);
      args.push("--location", options.dataDir);
    } else {
      args.push("--inMemoryPersistence");
    }
    const child = spawn(process.execPath, args, {
      stdio: [dieWithParent ? "pipe" : "ignore", "pipe", "pipe"],
    });
    try {
      await waitListening(child);
    } catch (err) {
      child.kill("SIGKILL");
      if (attempt < 2) continue; // a port taken between probe and bind: try other ports
      throw err;
    }
    const dataDir = options.dataDir;
    if (dataDir && child.pid) await writeAzuritePid(dataDir, child.pid);
    const blobUrl = `http://${host}:${blobPort}/${AZURITE_ACCOUNT}`;
    const queueUrl = `http://${host}:${queuePort}/${AZURITE_ACCOUNT}`;
    const tableUrl = `http://${host}:${tablePort}/${AZURITE_ACCOUNT}`;
    return {
      blobUrl,
      queueUrl,
      tableUrl,
      connectionString:
        `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
        `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
      pid: child.pid ?? 0,
      stop: async () => {
        await stopChild(child);
        if (dataDir) await removeAzuritePid(dataDir);
      },
    };
  }
}

function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let seen = 0;
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      seen = (out.match(/successfully listening/g) ?? []).length;
      if (seen >= 3) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code} before listening:\n${out}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
