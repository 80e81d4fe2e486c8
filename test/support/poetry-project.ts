// A real poetry.lock with dependency groups: Debian trixie's Poetry (2.x; bookworm's 1.3 writes the
// older `category`) locks a small project in an mmdebstrap chroot, once per machine, offline (its
// dependencies are local path packages). What `poetry show` and `poetry show --only main` list is the
// expected answer.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "poetry-groups-v1";

const library = (name: string, version: string, deps: string[] = []) => `[project]
name = "${name}"
version = "${version}"
dependencies = [${deps.map((d) => `"${d}"`).join(", ")}]

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
`;

// libshared is reached from main (through libprod) and named in the dev group: production
const LIBRARIES: Record<string, string> = {
  libprod: library("libprod", "2.0.0", ["libshared @ file:///root/py/libshared"]),
  libshared: library("libshared", "1.0.0"),
  libdev: library("libdev", "3.0.0"),
  libtest: library("libtest", "4.0.0"),
};
const APP = `[tool.poetry]
name = "app"
version = "0.1.0"
description = ""
authors = ["fixture <fixture@example.invalid>"]
package-mode = false

[tool.poetry.dependencies]
python = ">=3.9"
libprod = { path = "../libprod" }

[tool.poetry.group.dev.dependencies]
libdev = { path = "../libdev" }
libshared = { path = "../libshared" }

[tool.poetry.group.test.dependencies]
libtest = { path = "../libtest" }
`;

export interface PoetryProject {
  /** the project's pyproject.toml and the poetry.lock Poetry wrote */
  pyproject: string;
  lock: string;
  /** `poetry show` (every group) and `poetry show --only main`, PEP 503 name@version */
  all: string[];
  main: string[];
}

async function load(dir: string): Promise<PoetryProject | undefined> {
  try {
    const facts = JSON.parse(await readFile(path.join(dir, "expected.json"), "utf8")) as Omit<
      PoetryProject,
      "pyproject" | "lock"
    >;
    return { ...facts, pyproject: path.join(dir, "pyproject.toml"), lock: path.join(dir, "poetry.lock") };
  } catch {
    return undefined;
  }
}

const shown = (text: string) =>
  text
    .split("\n")
    .flatMap((line) => {
      const m = /^(\S+)\s+(?:\(!\)\s+)?(\S+)/.exec(line);
      return m ? [`${m[1]!.toLowerCase().replace(/[-_.]+/g, "-")}@${m[2]}`] : [];
    })
    .sort();

/** Locks (or reuses) the project; needs root, mmdebstrap and Debian's trixie suite on the mirror. */
export const buildPoetryProject: () => Promise<PoetryProject> = oncePerProcess(() =>
  cachedTestBuild(RECIPE, load, async (work) => {
    const tree = path.join(work, "py");
    for (const [name, pyproject] of Object.entries(LIBRARIES)) {
      await mkdir(path.join(tree, name, name), { recursive: true });
      await writeFile(path.join(tree, name, name, "__init__.py"), "");
      await writeFile(path.join(tree, name, "pyproject.toml"), pyproject);
    }
    await mkdir(path.join(tree, "app"));
    await writeFile(path.join(tree, "app", "pyproject.toml"), APP);
    const mirror = process.env.PORTCULLIS_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
    const inApp = (cmd: string) => `chroot "$1" sh -c 'cd /root/py/app && ${cmd}'`;
    await runTool(
      "mmdebstrap",
      [
        "--variant=minbase",
        "--mode=root",
        "--format=null",
        "--include=python3-poetry",
        `--customize-hook=cp -r ${tree} "$1/root/py"`,
        `--customize-hook=${inApp("poetry lock --no-ansi")}`,
        `--customize-hook=${inApp("poetry show --no-ansi")} > ${work}/all.txt`,
        `--customize-hook=${inApp("poetry show --only main --no-ansi")} > ${work}/main.txt`,
        `--customize-hook=cp "$1/root/py/app/poetry.lock" "$1/root/py/app/pyproject.toml" ${work}/`,
        "trixie",
        "/dev/null",
        mirror,
      ],
      { timeoutMs: 20 * 60_000 },
    );
    const all = shown(await readFile(path.join(work, "all.txt"), "utf8"));
    const main = shown(await readFile(path.join(work, "main.txt"), "utf8"));
    await rm(tree, { recursive: true, force: true });
    await writeFile(path.join(work, "expected.json"), `${JSON.stringify({ all, main }, null, 2)}\n`);
  }),
);
