// Real Linux executables compiled at test time by gcc and cached under $PORTCULLIS_TEST_CACHE: a
// harmless one, one whose executable section is 64 KiB of random bytes (what packed or encrypted
// code looks like), and the harmless one rewritten into UPX's layout (no section table, UPX's
// "UPX!" loader info right after the program headers) — UPX itself is not in Debian bookworm.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "../../../support/run-tool.js";
import { cachedTestBuild, oncePerProcess } from "../../../support/test-cache.js";

const SOURCES = {
  hello: `#include <stdio.h>
int main(int argc, char **argv) { printf("hello %s\\n", argv[0]); return argc - 1; }
`,
  packed: `__asm__(".section .packed,\\"ax\\",@progbits\\n.incbin \\"random.bin\\"\\n.text\\n");
#include <stdio.h>
int main(void) { puts("unpacking"); return 0; }
`,
} as const;

export type ElfBinaries = Record<keyof typeof SOURCES | "upx", Buffer>;

async function load(dir: string): Promise<ElfBinaries | undefined> {
  try {
    return {
      hello: await readFile(path.join(dir, "hello")),
      packed: await readFile(path.join(dir, "packed")),
      upx: await readFile(path.join(dir, "upx")),
    };
  } catch {
    return undefined;
  }
}

/** e_shoff, e_shnum and e_shstrndx cleared, "UPX!" written where UPX puts its l_info (64-bit LE). */
export function upxLayout(elf: Buffer): Buffer {
  const b = Buffer.from(elf);
  b.writeBigUInt64LE(0n, 0x28);
  b.writeUInt16LE(0, 0x3c);
  b.writeUInt16LE(0, 0x3e);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const end = phoff + b.readUInt16LE(0x36) * b.readUInt16LE(0x38);
  b.write("UPX!", end + 4, "latin1");
  return b;
}

export const elfTestBinaries = oncePerProcess(() =>
  cachedTestBuild("elf-binaries-v1", load, async (work) => {
    await writeFile(path.join(work, "random.bin"), randomBytes(64 * 1024));
    for (const [name, source] of Object.entries(SOURCES)) {
      await writeFile(path.join(work, `${name}.c`), source);
      await runTool("gcc", ["-O1", "-o", name, `${name}.c`], { cwd: work });
    }
    await writeFile(path.join(work, "upx"), upxLayout(await readFile(path.join(work, "hello"))));
  }),
);
