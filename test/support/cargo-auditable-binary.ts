// A real `cargo auditable` binary: Debian trixie's cargo, rustc and cargo-auditable (bookworm has no
// cargo-auditable) build a small crate in an mmdebstrap chroot, once per machine, offline against the
// crates Debian packages (librust-*-dev, a directory source standing in for crates.io). What
// `cargo tree -e normal` says the binary links is the expected answer.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "cargo-auditable-binary-v1";
const SUITE = "trixie";
const PACKAGES = ["cargo", "rustc", "cargo-auditable", "librust-itoa-dev", "librust-cfg-if-dev"];
export const BINARY_NAME = "portcullis-auditable-fixture";

// itoa is linked in; cfg-if only runs in build.rs, so cargo auditable records it as `kind = "build"`
const CARGO_TOML = `[package]
name = "${BINARY_NAME}"
version = "0.1.0"
edition = "2021"

[dependencies]
itoa = "1"

[build-dependencies]
cfg-if = "1"
`;
const MAIN_RS = `fn main() {
    println!("{}", itoa::Buffer::new().format(42));
}
`;
const BUILD_RS = `cfg_if::cfg_if! { if #[cfg(unix)] { fn main() {} } else { fn main() {} } }
`;
const CARGO_CONFIG = `[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"
`;

export interface AuditableBinary {
  /** the release binary cargo auditable built, with its `.dep-v0` section */
  binary: string;
  /** `cargo tree -e normal`: the crates linked into it, name@version, the root crate left out */
  linked: string[];
  /** every crate in the Cargo.lock cargo wrote, name@version (build-only ones too) */
  locked: string[];
}

async function load(dir: string): Promise<AuditableBinary | undefined> {
  try {
    const facts = JSON.parse(await readFile(path.join(dir, "expected.json"), "utf8")) as Omit<
      AuditableBinary,
      "binary"
    >;
    return { ...facts, binary: path.join(dir, BINARY_NAME) };
  } catch {
    return undefined;
  }
}

/** Builds (or reuses) the binary; needs root, mmdebstrap and Debian's trixie suite on the mirror. */
export const buildAuditableBinary: () => Promise<AuditableBinary> = oncePerProcess(() =>
  cachedTestBuild(RECIPE, load, async (work) => {
    const project = path.join(work, "project");
    await runTool("mkdir", ["-p", path.join(project, "src"), path.join(project, ".cargo")]);
    await writeFile(path.join(project, "Cargo.toml"), CARGO_TOML);
    await writeFile(path.join(project, "src/main.rs"), MAIN_RS);
    await writeFile(path.join(project, "build.rs"), BUILD_RS);
    await writeFile(path.join(project, ".cargo/config.toml"), CARGO_CONFIG);
    const mirror = process.env.PORTCULLIS_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
    const inChroot = (cmd: string) => `chroot "$1" sh -c 'cd /root/app && ${cmd}'`;
    await runTool(
      "mmdebstrap",
      [
        "--variant=minbase",
        "--mode=root",
        "--format=null",
        `--include=${PACKAGES.join(",")}`,
        `--customize-hook=cp -r ${project} "$1/root/app"`,
        `--customize-hook=${inChroot("cargo auditable build --release --offline")}`,
        `--customize-hook=${inChroot("cargo tree --offline -e normal --prefix none --format {p}")} > ${work}/tree.txt`,
        `--customize-hook=cp "$1/root/app/target/release/${BINARY_NAME}" "$1/root/app/Cargo.lock" ${work}/`,
        SUITE,
        "/dev/null",
        mirror,
      ],
      { timeoutMs: 20 * 60_000 },
    );
    const crate = /^(\S+) v(\S+)/;
    const linked = (await readFile(path.join(work, "tree.txt"), "utf8"))
      .split("\n")
      .filter((line) => !line.startsWith(BINARY_NAME))
      .flatMap((line) => {
        const m = crate.exec(line);
        return m ? [`${m[1]}@${m[2]}`] : [];
      });
    const lock = await readFile(path.join(work, "Cargo.lock"), "utf8");
    const locked = [...lock.matchAll(/name = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry/g)].map(
      (m) => `${m[1]}@${m[2]}`,
    );
    await runTool("rm", ["-rf", project, path.join(work, "tree.txt")]);
    const facts = { linked: [...new Set(linked)].sort(), locked: locked.sort() };
    await writeFile(path.join(work, "expected.json"), `${JSON.stringify(facts, null, 2)}\n`);
  }),
);
