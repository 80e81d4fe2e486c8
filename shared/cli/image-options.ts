import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import type { PlatformSelector } from "../registry/image-source.js";
import { UsageError } from "./usage-error.js";

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
    .option("--platform <os/arch[/variant]|all>", "platform of a multi-platform image (default linux/amd64 when present, else all)")
    .option("--insecure-registry <host:port>", "talk plain HTTP to this registry (repeatable)", collect, [])
    .option("--cache-dir <dir>", "where layer reports and the vulnerability DB are kept", defaultCacheDir())
    .option("--allow-foreign-layers", "download foreign/non-distributable layers (Windows base layers) from their URLs");
}

/** `linux/amd64`, `linux/arm/v7`, `windows/amd64:10.0.20348` (os.version prefix) or `all`. */
export function parsePlatform(value: string | undefined): PlatformSelector {
  if (value === undefined || value === "") return undefined;
  if (value === "all") return "all";
  const [spec, osVersion] = value.split(":", 2);
  const parts = (spec ?? "").split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p)))
    throw new UsageError(`--platform must be os/arch[/variant] or "all", not "${value}"`);
  const [osName, architecture, variant] = parts as [string, string, string | undefined];
  return {
    os: osName,
    architecture,
    ...(variant ? { variant } : {}),
    ...(osVersion ? { osVersion } : {}),
  };
}
