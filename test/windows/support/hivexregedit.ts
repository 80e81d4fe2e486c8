import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RegKey } from "./reg-file.js";
import { regFile } from "./reg-file.js";
import { writeHive } from "./regf-writer.js";

/** A hive built the way the issue asks: our seed regf, grown by `hivexregedit --merge`. */
export function buildHiveWithHivex(rootName: string, keys: RegKey[]): { hive: Buffer; exported: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-hivex-"));
  try {
    const hivePath = join(dir, "hive");
    const regPath = join(dir, "merge.reg");
    writeFileSync(hivePath, writeHive({ name: rootName }).buf);
    writeFileSync(regPath, regFile(keys), "utf8");
    execFileSync("hivexregedit", ["--merge", hivePath, regPath], { stdio: ["ignore", "ignore", "pipe"] });
    const exported = execFileSync("hivexregedit", ["--export", hivePath, "\\"], {
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    });
    return { hive: readFileSync(hivePath), exported };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
