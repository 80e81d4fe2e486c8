import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../support/cli.js";

export interface ServeChild {
  child: ChildProcess;
  url: string;
  token: string;
  /** everything it wrote to stdout and stderr so far */
  output(): string;
}

export interface ServeChildOptions {
  /** fixed port (a registry's notifications keep reaching a restarted host); default any free one */
  port?: number;
  insecureRegistries?: readonly string[];
  env?: Record<string, string>;
}

/** `portcullis serve` on `dataDir` as its own process, as a user runs it; resolves once it listens. */
export async function startServeChild(dataDir: string, options: ServeChildOptions = {}): Promise<ServeChild> {
  const args = [
    "--import",
    "tsx",
    path.join(REPO_ROOT, "shared/cli/run.ts"),
    "serve",
    "--port",
    String(options.port ?? 0),
    "--data-dir",
    dataDir,
    ...(options.insecureRegistries ?? ["127.0.0.1:5999"]).flatMap((r) => ["--insecure-registry", r]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    const onData = (c: Buffer) => {
      output += c.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening && /hook token: (\S+)/.test(output)) {
        clearTimeout(timer);
        resolve(listening[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code ?? signal}:\n${output}`));
    });
  });
  return { child, url, token: /hook token: (\S+)/.exec(output)![1]!, output: () => output };
}

/** SIGKILL, as a power cut or the OOM killer would, and wait until the process is gone. */
export async function killHard(serve: ServeChild): Promise<void> {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => serve.child.once("exit", () => resolve()));
  serve.child.kill("SIGKILL");
  await exited;
}
