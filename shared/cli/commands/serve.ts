import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { readSettings } from "../../composition/settings.js";
import { startLocalHost } from "../../local/host.js";
import { UsageError } from "../usage-error.js";

/** `--data-dir`, else `$PORTCULLIS_DATA_DIR`, else `$XDG_DATA_HOME/portcullis` (~/.local/share/portcullis). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_DATA_DIR) return env.PORTCULLIS_DATA_DIR;
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "portcullis");
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface ServeOptions {
  port: string;
  host: string;
  dataDir?: string;
  insecureRegistry: string[];
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "run the whole pipeline locally: push hooks, stages on durable queues, query API (npm start)",
    )
    .option("--port <port>", "HTTP port (0 = any free port)", "7071")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option(
      "--data-dir <dir>",
      "where tables, blobs, queues and the hook token are kept (default $PORTCULLIS_DATA_DIR or ~/.local/share/portcullis)",
    )
    .option("--insecure-registry <host:port>", "talk plain HTTP to this registry (repeatable)", collect, [])
    .action(async (opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be 0–65535, not "${opts.port}"`);
      const settings = readSettings();
      settings.PORTCULLIS_INSECURE_REGISTRIES = [
        ...settings.PORTCULLIS_INSECURE_REGISTRIES,
        ...opts.insecureRegistry,
      ];
      const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
      const host = await startLocalHost({ dataDir, port, host: opts.host, settings });
      process.stdout.write(
        [
          `portcullis listening on ${host.url} (data in ${dataDir})`,
          `  push hooks: ${host.url}/api/hooks/{distribution,acr,eventgrid,harbor,github}`,
          `  hook token: ${host.hookToken}  (send "Authorization: Bearer <token>")`,
          `  gate:       ${host.url}/api/gate?image=<registry/repository@sha256:…>`,
          "",
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stderr.write(`${signal}: finishing the messages in flight …\n`);
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          host.stop().then(resolve, resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
