// A real Debian bookworm root filesystem with language packages that Debian packages install
// (python3-yaml's PyYAML dist-info, libjackson2-core-java's jar, node-ms's modules in /usr/share/nodejs), built by mmdebstrap once per machine
// and cached as one plain layer tar; what dpkg-query -S and importlib.metadata say about it is the
// expected answer.
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "debian-language-layer-v3";
export const OS_PACKAGES = ["python3-yaml", "libjackson2-core-java", "node-ms"] as const;

export interface DebianLanguageLayer {
  /** the root filesystem as one uncompressed layer tar */
  layer: string;
  /** `dpkg-query -S` of each language-package file: its path (no leading slash) → the owning package */
  owners: Record<string, string>;
  /** PyYAML's version as Python's own importlib.metadata reads it inside the image */
  pyyamlVersion: string;
}

async function load(dir: string): Promise<DebianLanguageLayer | undefined> {
  try {
    const facts = JSON.parse(await readFile(path.join(dir, "expected.json"), "utf8")) as Omit<
      DebianLanguageLayer,
      "layer"
    >;
    return { ...facts, layer: path.join(dir, "layer.tar") };
  } catch {
    return undefined;
  }
}

export const buildDebianLanguageLayer: () => Promise<DebianLanguageLayer> = oncePerProcess(() =>
  cachedTestBuild(RECIPE, load, async (work) => {
    const rootfs = path.join(work, "rootfs");
    const mirror = process.env.PORTCULLIS_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
    await runTool(
      "mmdebstrap",
      [
        "--variant=minbase",
        "--mode=root",
        "--format=directory",
        `--include=${OS_PACKAGES.join(",")}`,
        "bookworm",
        rootfs,
        mirror,
      ],
      { timeoutMs: 15 * 60_000 },
    );
    for (const entry of await readdir(path.join(rootfs, "dev")))
      await rm(path.join(rootfs, "dev", entry), { recursive: true, force: true });
    // dpkg's own answer for the files the language analyzers read: dist-info metadata and jars
    const { stdout } = await runTool("dpkg-query", [
      `--admindir=${rootfs}/var/lib/dpkg`,
      "-S",
      "*.dist-info/METADATA",
      "*.jar",
      "*/nodejs/*package.json",
    ]);
    const owners: Record<string, string> = {};
    for (const line of stdout.split("\n")) {
      const m = /^([^:,\s]+)(?::\S+)?: \/(.+)$/.exec(line);
      if (m) owners[m[2]!] = m[1]!;
    }
    const { stdout: version } = await runTool("chroot", [
      rootfs,
      "python3",
      "-c",
      "import importlib.metadata as m; print(m.version('PyYAML'))",
    ]);
    await runTool("tar", [
      "--numeric-owner",
      "--sort=name",
      "-C",
      rootfs,
      "-cf",
      path.join(work, "layer.tar"),
      ".",
    ]);
    await rm(rootfs, { recursive: true, force: true });
    const facts = { owners, pyyamlVersion: version.trim() };
    await writeFile(path.join(work, "expected.json"), `${JSON.stringify(facts, null, 2)}\n`);
  }),
);
