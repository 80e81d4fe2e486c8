import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ScanError } from "../../model/errors.js";

/** The user's YARA rule files, read once when the analyzers are built. */
export interface UserYaraRules {
  files: { path: string; source: string }[];
}

/** A rule file larger than this is refused: rule sets are text, and a huge one is a mistake or an attack. */
export const MAX_RULE_FILE_BYTES = 1024 * 1024;
/** Rule files read from all directories together. */
export const MAX_RULE_FILES = 500;

/**
 * The `.yar`/`.yara` files directly inside each directory (`content.yaraRules` in portcullis.yaml,
 * relative to the policy file), in name order. A missing directory, an oversized file or too many
 * files is an error naming it — never a scan that silently runs without the user's rules.
 */
export function readUserYaraRules(dirs: readonly string[], baseDir = "."): UserYaraRules {
  const files: UserYaraRules["files"] = [];
  for (const dir of dirs) {
    const root = resolve(baseDir, dir);
    let names: string[];
    try {
      names = readdirSync(root).sort();
    } catch (err) {
      throw new ScanError(
        "yara-rules-invalid",
        `YARA rule directory ${root} cannot be read: ${(err as Error).message}`,
      );
    }
    for (const name of names) {
      if (!/\.(?:yar|yara)$/i.test(name)) continue;
      const path = join(root, name);
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      if (stat.size > MAX_RULE_FILE_BYTES)
        throw new ScanError(
          "yara-rules-invalid",
          `YARA rule file ${path} is ${stat.size} bytes; at most ${MAX_RULE_FILE_BYTES} are read`,
        );
      if (files.length >= MAX_RULE_FILES)
        throw new ScanError(
          "yara-rules-invalid",
          `more than ${MAX_RULE_FILES} YARA rule files under ${dirs.join(", ")}`,
        );
      files.push({ path, source: readFileSync(path, "utf8") });
    }
  }
  return { files };
}
