// Each table has one owner module (tables.ts names it): the next table, and the next reader of an
// existing one, go through that module rather than around it.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TABLES } from "../../shared/stages/tables.js";
import { REPO_ROOT } from "../support/corpus.js";

const shared = path.join(REPO_ROOT, "shared");
const sources = readdirSync(shared, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".ts"))
  .map((e) => path.relative(shared, path.join(e.parentPath, e.name)));
const tablesTs = readFileSync(path.join(shared, "stages", "tables.ts"), "utf8");

describe("table owners", () => {
  it.each(Object.keys(TABLES))("TABLES.%s is used by the one module tables.ts names as its owner", (name) => {
    const users = sources.filter((file) =>
      new RegExp(`\\bTABLES\\.${name}\\b`).test(readFileSync(path.join(shared, file), "utf8")),
    );
    expect(users).toHaveLength(1);
    // the doc comment right above the entry names the owner (stages/ files by their bare name)
    const comment = new RegExp(`/\\*\\*([^*]|\\*(?!/))*\\*/\\s*${name}:`).exec(tablesTs)?.[0] ?? "";
    const owner = users[0]!.startsWith("stages/") ? path.basename(users[0]!) : users[0]!;
    expect(comment).toContain(owner);
  });
});
