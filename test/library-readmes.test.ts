// Every folder of the library says in its README what lives there, what it may import and where the
// next one goes: a folder added without one fails here.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "./support/corpus.js";

it("every folder under shared/ and functions/ has a README.md", () => {
  const folders = ["shared", "functions"].flatMap((top) => [
    top,
    ...readdirSync(path.join(REPO_ROOT, top), { recursive: true, withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
      .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name))),
  ]);
  expect(folders.length).toBeGreaterThan(30);
  expect(folders.filter((folder) => !existsSync(path.join(REPO_ROOT, folder, "README.md")))).toEqual([]);
});
