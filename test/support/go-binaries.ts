// Real Go binaries with module information, built at test time by Debian's Go (golang-go) from a
// vendored module tree (no module proxy needed), cached under $PORTCULLIS_TEST_CACHE; `go version -m`
// on each is the expected answer.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "go-binaries-v1";

const FILES: Record<string, string> = {
  "go.mod": [
    "module example.com/app",
    "",
    "go 1.19",
    "",
    "require (",
    "\texample.com/lib v1.2.3",
    "\tgolang.org/x/text v0.3.7",
    ")",
    "",
    "replace example.com/lib => example.com/fork v1.2.4",
    "",
  ].join("\n"),
  "main.go": [
    "package main",
    "",
    'import (\n\t"fmt"\n\n\t"example.com/lib"\n\t"golang.org/x/text"\n)',
    "",
    "func main() { fmt.Println(lib.Name, text.Name) }",
    "",
  ].join("\n"),
  "vendor/example.com/lib/lib.go": 'package lib\n\nconst Name = "lib"\n',
  "vendor/golang.org/x/text/text.go": 'package text\n\nconst Name = "text"\n',
  "vendor/modules.txt": [
    "# example.com/lib v1.2.3 => example.com/fork v1.2.4",
    "## explicit",
    "example.com/lib",
    "# golang.org/x/text v0.3.7",
    "## explicit",
    "golang.org/x/text",
    "# example.com/lib => example.com/fork v1.2.4",
    "",
  ].join("\n"),
};

export interface GoTestBinaries {
  /** an ELF (linux/amd64) and a PE (windows/amd64) build of the same module */
  elf: string;
  pe: string;
  /** `go version -m` of each */
  expected: Record<"elf" | "pe", string>;
}

async function load(dir: string): Promise<GoTestBinaries | undefined> {
  try {
    const expected = JSON.parse(
      await readFile(path.join(dir, "expected.json"), "utf8"),
    ) as GoTestBinaries["expected"];
    return { elf: path.join(dir, "app"), pe: path.join(dir, "app.exe"), expected };
  } catch {
    return undefined;
  }
}

export const buildGoTestBinaries: () => Promise<GoTestBinaries> = oncePerProcess(loadOrBuild);

async function loadOrBuild(): Promise<GoTestBinaries> {
  return cachedTestBuild(RECIPE, load, async (work) => {
    const src = path.join(work, "src");
    for (const [name, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(src, name)), { recursive: true });
      await writeFile(path.join(src, name), text);
    }
    const env = {
      GOFLAGS: "-mod=vendor",
      GOPROXY: "off",
      GOCACHE: path.join(work, "gocache"),
      CGO_ENABLED: "0",
    };
    await runTool("go", ["build", "-o", path.join(work, "app"), "."], { cwd: src, env });
    await runTool("go", ["build", "-o", path.join(work, "app.exe"), "."], {
      cwd: src,
      env: { ...env, GOOS: "windows", GOARCH: "amd64" },
    });
    const expected = {
      elf: (await runTool("go", ["version", "-m", path.join(work, "app")])).stdout,
      pe: (await runTool("go", ["version", "-m", path.join(work, "app.exe")])).stdout,
    };
    await writeFile(path.join(work, "expected.json"), JSON.stringify(expected));
    await rm(path.join(work, "gocache"), { recursive: true, force: true });
  });
}

/** `go version -m` output → the packages govulncheck would match: stdlib at the Go version, then each module. */
export function modulesFromGoVersion(output: string): string[] {
  const lines = output.split("\n").map((l) => l.trim().split("\t"));
  const goVersion = /: go(\S+)$/.exec(output.split("\n")[0] ?? "")?.[1];
  const out: string[] = goVersion ? [`stdlib@${goVersion}`] : [];
  for (let i = 0; i < lines.length; i++) {
    const [kind, modPath, version] = lines[i]!;
    if (kind !== "dep" && kind !== "mod") continue;
    const next = lines[i + 1];
    const [p, v] = next?.[0] === "=>" ? [next[1], next[2]] : [modPath, version];
    if (v && v !== "(devel)") out.push(`${p}@${v}`);
  }
  return out.sort();
}
