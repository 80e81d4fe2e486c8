import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode } from "../../shared/model/error-codes.js";
import { REPO_ROOT } from "../support/corpus.js";

const readme = (folder: string) => readFileSync(path.join(REPO_ROOT, "shared", folder, "README.md"), "utf8");

/** The `| \`code\` | meaning |` rows of a markdown table, padded or not. */
function tableRows(markdown: string): [string, string][] {
  return [...markdown.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [m[1]!, m[2]!]);
}

describe("error codes", () => {
  it("model/README.md lists every code with the meaning error-codes.ts gives it, in the same order", () => {
    const section = readme("model").split("## Error codes")[1]!.split("\n## ")[0]!;
    expect(tableRows(section)).toEqual(Object.entries(ERROR_CODES));
  });

  it("registry/README.md names only codes that exist", () => {
    const section = readme("registry").split("unless marked _transient_):")[1] ?? "";
    const named = [...section.matchAll(/`([a-z][a-z0-9-]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it("gives every code one line of meaning", () => {
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      expect(meaning, code).toMatch(/^\S.{9,}$/);
      expect(meaning, code).not.toContain("\n");
    }
  });
});

/** Every `.ts` file under a folder of the repository. */
function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(REPO_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.parentPath.includes("node_modules"))
    .map((e) => path.join(e.parentPath, e.name));
}

describe("typed errors only", () => {
  it("shared/ and functions/ throw no plain Error: a ScanError code, a parser's error class or an InvariantError", () => {
    const files = [...sourceFiles("shared"), ...sourceFiles("functions")];
    expect(files.length).toBeGreaterThan(100);
    const plain = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          /\bthrow\s+(?:new\s+)?Error\s*\(/.test(line) ? [`${path.relative(REPO_ROOT, file)}:${i + 1}`] : [],
        ),
    );
    expect(plain).toEqual([]);
  });
});
