import { readFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";

/**
 * Lazily unmounts whatever an interrupted mmdebstrap left mounted under `dir` (proc, sysfs, devpts),
 * deepest first, so deleting the dir never walks into a live filesystem.
 */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = `${path.resolve(dir)}/`;
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    // /proc/mounts escapes spaces and other odd bytes as octal.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))))
    .filter((p) => p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await runTool("umount", ["--lazy", mountPoint]);
}
