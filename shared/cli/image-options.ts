import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { readSetting } from "../composition/settings.js";

/** Flags every command that reads an image shares. */
export interface ImageOptions {
  platform?: string;
  insecureRegistry: string[];
  cacheDir: string;
  allowForeignLayers?: boolean;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_CACHE_DIR) return env.PORTCULLIS_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "portcullis");
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addImageOptions(cmd: Command): Command {
  return cmd
    .option(
      "--platform <os/arch[/variant]|all>",
      "platform of a multi-platform image (default linux/amd64 when present, else all)",
    )
    .option("--insecure-registry <host:port>", "talk plain HTTP to this registry (repeatable)", collect, [])
    .option("--cache-dir <dir>", "where layer reports and the vulnerability DB are kept", defaultCacheDir())
    .option(
      "--allow-foreign-layers",
      "download foreign/non-distributable layers (Windows base layers) from their URLs (default $PORTCULLIS_ALLOW_FOREIGN_LAYERS)",
      // the app setting of the same name, for CI runners configured by environment
      readSetting("PORTCULLIS_ALLOW_FOREIGN_LAYERS"),
    );
}
