// Real Windows executables, compiled at test time by Debian's gcc-mingw-w64-x86-64 and cached under
// $PORTCULLIS_TEST_CACHE: one imports remote-process injection, one process hollowing, one is packed
// (a UPX-named executable section of random bytes), and two are harmless.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "./run-tool.js";
import { cachedTestBuild, oncePerProcess } from "./test-cache.js";

const RECIPE = "pe-binaries-v2";

const SOURCES = {
  injector: `#include <windows.h>
int main(int argc, char **argv) {
  HANDLE p = OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)argc);
  LPVOID m = VirtualAllocEx(p, NULL, 4096, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
  WriteProcessMemory(p, m, argv[0], 16, NULL);
  CreateRemoteThread(p, NULL, 0, (LPTHREAD_START_ROUTINE)m, NULL, 0, NULL);
  return 0;
}
`,
  hollower: `#include <windows.h>
typedef LONG NTSTATUS;
NTSTATUS NTAPI NtUnmapViewOfSection(HANDLE process, PVOID base);
int main(int argc, char **argv) {
  STARTUPINFOA si = { sizeof si }; PROCESS_INFORMATION pi; CONTEXT ctx = { 0 };
  CreateProcessA(argv[0], NULL, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL, NULL, &si, &pi);
  NtUnmapViewOfSection(pi.hProcess, (PVOID)0x400000);
  WriteProcessMemory(pi.hProcess, (PVOID)0x400000, argv[0], 16, NULL);
  SetThreadContext(pi.hThread, &ctx);
  ResumeThread(pi.hThread);
  return argc;
}
`,
  packed: `__asm__(".section UPX1,\\"xr\\"\\n.incbin \\"random.bin\\"\\n.text\\n");
#include <windows.h>
int main(void) { return (int)GetTickCount(); }
`,
  // reads another process's memory (a debugger's or a monitor's job) but never writes or starts code there
  inspector: `#include <windows.h>
int main(int argc, char **argv) {
  char buf[16]; SIZE_T n; MEMORY_BASIC_INFORMATION mbi;
  HANDLE p = OpenProcess(PROCESS_VM_READ | PROCESS_QUERY_INFORMATION, FALSE, (DWORD)argc);
  VirtualQueryEx(p, argv[0], &mbi, sizeof mbi);
  ReadProcessMemory(p, argv[0], buf, sizeof buf, &n);
  CloseHandle(p);
  return (int)n;
}
`,
  hello: `#include <windows.h>
int main(void) { MessageBoxA(NULL, "hello", "portcullis", MB_OK); return (int)GetTickCount(); }
`,
  // stands in for a core system file: a version resource (windres) saying FileVersion 10.0.20348.2227
  ntoskrnl: `int main(void) { return 0; }
`,
} as const;

const NTOSKRNL_VERSION_RC = `1 VERSIONINFO
FILEVERSION 10,0,20348,2227
PRODUCTVERSION 10,0,20348,2227
BEGIN
END
`;

export type PeTestBinary = keyof typeof SOURCES;

async function load(dir: string): Promise<Record<PeTestBinary, string> | undefined> {
  const out = {} as Record<PeTestBinary, string>;
  try {
    for (const name of Object.keys(SOURCES) as PeTestBinary[]) {
      out[name] = path.join(dir, `${name}.exe`);
      await readFile(out[name]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Paths of the compiled executables, by name. */
export const buildPeTestBinaries: () => Promise<Record<PeTestBinary, string>> = oncePerProcess(() =>
  cachedTestBuild(RECIPE, load, async (work) => {
    await writeFile(path.join(work, "random.bin"), randomBytes(16_384));
    for (const [name, source] of Object.entries(SOURCES)) {
      await writeFile(path.join(work, `${name}.c`), source);
      const libs = name === "hollower" ? ["-lntdll"] : [];
      if (name === "ntoskrnl") {
        await writeFile(path.join(work, "version.rc"), NTOSKRNL_VERSION_RC);
        await runTool("x86_64-w64-mingw32-windres", ["version.rc", "-O", "coff", "-o", "version.o"], {
          cwd: work,
        });
        libs.push("version.o");
      }
      await runTool("x86_64-w64-mingw32-gcc", ["-O1", "-o", `${name}.exe`, `${name}.c`, ...libs], {
        cwd: work,
      });
    }
  }),
);
