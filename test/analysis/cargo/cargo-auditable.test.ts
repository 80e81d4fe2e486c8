import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cargoAnalyzer } from "../../../shared/analysis/cargo/cargo-analyzer.js";
import {
  type AuditableBinary,
  BINARY_NAME,
  buildAuditableBinary,
} from "../../support/cargo-auditable-binary.js";

// Hostile and PE cases: real binaries from gcc (ELF) and mingw-w64 (PE) get a `.dep-v0` section added
// by binutils' objcopy, holding JSON in the published format (cargo-auditable.schema.json: packages
// with name, version, source, optional kind and root). The last block reads a binary that Debian
// trixie's own cargo auditable built (test/support/cargo-auditable-binary.ts).
const DEPS = {
  packages: [
    { name: "app", version: "0.1.0", source: "local", dependencies: [1, 2, 3], root: true },
    { name: "serde", version: "1.0.197", source: "crates.io" },
    { name: "smallvec", version: "1.6.0", source: "crates.io", kind: "runtime" },
    { name: "cc", version: "1.0.83", source: "crates.io", kind: "build" },
    { name: "forked", version: "0.3.0", source: "git" },
  ],
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "portcullis-auditable-"));
  writeFileSync(path.join(dir, "main.c"), "int main(void) { return 0; }\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real binary with `section` as its `.dep-v0`, linked by `cc` and given the section by `objcopy`. */
function binaryWith(section: Buffer, target: "elf" | "pe"): Buffer {
  const [cc, objcopy] =
    target === "elf" ? ["gcc", "objcopy"] : ["x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-objcopy"];
  // mingw-w64's gcc names its output .exe whatever -o says
  const ext = target === "pe" ? ".exe" : "";
  const plain = path.join(dir, `plain${ext}`);
  const out = path.join(dir, `auditable${ext}`);
  writeFileSync(path.join(dir, "dep-v0"), section);
  execFileSync(cc, ["-o", plain, path.join(dir, "main.c")]);
  // a PE section is mapped above the image base (mingw-w64's default 0x140000000), as a linker would place it
  const flags =
    target === "pe"
      ? [
          "--set-section-flags",
          ".dep-v0=contents,alloc,load,readonly,data",
          "--change-section-address",
          ".dep-v0=0x140100000",
        ]
      : [];
  execFileSync(objcopy, ["--add-section", `.dep-v0=${path.join(dir, "dep-v0")}`, ...flags, plain, out], {
    stdio: "ignore",
  });
  return readFileSync(out);
}

const analyze = (content: Buffer, p = "usr/local/bin/app") => cargoAnalyzer.analyze({ path: p, content });
const ids = (out: Awaited<ReturnType<typeof analyze>>) =>
  (out.packages ?? []).map((p) => `${p.name}@${p.version}`).sort();

describe("cargo auditable binaries", () => {
  it.each(["elf", "pe"] as const)(
    "reads the runtime crates.io crates of a %s binary's .dep-v0",
    async (target) => {
      const file = target === "pe" ? "app/server.exe" : "usr/local/bin/app";
      expect(cargoAnalyzer.required(file)).toBe(true);
      const out = await analyze(binaryWith(deflateSync(JSON.stringify(DEPS)), target), file);
      // the root is the project's own crate, git crates are unpublished, build-time crates are not linked in
      expect(ids(out)).toEqual(["serde@1.0.197", "smallvec@1.6.0"]);
      expect(out.warnings ?? []).toEqual([]);
    },
  );

  it("says nothing about a binary without the section, or a file that is no binary", async () => {
    execFileSync("gcc", ["-o", path.join(dir, "bare"), path.join(dir, "main.c")]);
    expect(await analyze(readFileSync(path.join(dir, "bare")))).toEqual({});
    expect(await analyze(Buffer.from("#!/bin/sh\necho hi\n"))).toEqual({});
  });

  it("warns on a decompression bomb, malformed JSON, zlib garbage and a section outside the file", async () => {
    const bomb = binaryWith(deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), "elf");
    const cases: [Buffer, RegExp][] = [
      [bomb, /inflates past/],
      [binaryWith(deflateSync('{"packages": [{"name": "serde"'), "elf"), /not JSON/],
      [binaryWith(deflateSync('{"crates": []}'), "elf"), /no packages list/],
      [binaryWith(Buffer.from("not zlib at all"), "elf"), /not zlib data/],
    ];
    for (const [binary, message] of cases) {
      const out = await analyze(binary);
      expect(out.packages ?? []).toEqual([]);
      expect(out.warnings?.[0]).toMatchObject({ code: "cargo-auditable-unreadable", message });
    }
    // the section table pointed past the end of a truncated copy
    const whole = binaryWith(deflateSync(JSON.stringify(DEPS)), "elf");
    const truncated = await analyze(whole.subarray(0, whole.length - 200));
    expect(truncated.warnings?.[0]?.message).toMatch(/outside the file/);
  });
});

describe("cargo auditable binaries from the layer walk's chunks", () => {
  it.each(["elf", "pe"] as const)(
    "reads a %s binary cut at every third byte as it reads it whole",
    async (target) => {
      const binary = binaryWith(deflateSync(JSON.stringify(DEPS)), target);
      const path = target === "pe" ? "app/server.exe" : "usr/local/bin/app";
      const whole = await analyze(binary, path);
      expect(ids(whole)).toEqual(["serde@1.0.197", "smallvec@1.6.0"]);
      // every cut of the file: its headers, section table, name table and .dep-v0 each split somewhere
      for (let cut = 0; cut <= binary.length; cut += 3) {
        const chunks = [binary.subarray(0, cut), binary.subarray(cut)];
        expect(await cargoAnalyzer.analyzeChunks!({ path, chunks }), `cut at ${cut}`).toEqual(whole);
      }
      const truncated = binary.subarray(0, binary.length - 200);
      expect(
        await cargoAnalyzer.analyzeChunks!({
          path,
          chunks: [truncated.subarray(0, 100), truncated.subarray(100)],
        }),
      ).toEqual(await analyze(truncated, path));
    },
  );
});

describe("a real cargo auditable binary", () => {
  let built: AuditableBinary | undefined;
  let unavailable: string | undefined;
  beforeAll(async () => {
    try {
      built = await buildAuditableBinary();
    } catch (err) {
      // only a mirror without trixie's cargo-auditable is a reason to skip; anything else fails
      const message = (err as Error).message;
      if (
        !/Failed to fetch|Unable to locate package|Temporary failure resolving|Could not resolve/.test(
          message,
        )
      )
        throw err;
      unavailable = `Debian trixie's cargo-auditable cannot be fetched from the mirror: ${message.split("\n")[0]}`;
    }
  }, 30 * 60_000);

  it("reads the crates Debian's cargo auditable recorded, as cargo tree -e normal lists them", async (ctx) => {
    if (!built) return ctx.skip(unavailable);
    const file = `usr/local/bin/${BINARY_NAME}`;
    expect(cargoAnalyzer.required(file)).toBe(true);
    const out = await analyze(readFileSync(built.binary), file);
    expect(out.warnings ?? []).toEqual([]);
    expect(ids(out)).toEqual(built.linked);
    // the build-only crate is in Cargo.lock but not in the binary's runtime list
    expect(built.locked.length).toBeGreaterThan(built.linked.length);
  });
});
