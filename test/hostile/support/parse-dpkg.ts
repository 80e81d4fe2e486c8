// Run in a child process (tsx): parses a generated dpkg status of the given MiB and prints the peak
// RSS above what the process held once the file was in memory.
import { dpkgAnalyzer } from "../../../shared/analysis/dpkg/dpkg-analyzer.js";

const mib = Number(process.argv[2] ?? "64");
const stanza = (i: number) =>
  [
    `Package: pkg-${i}`,
    "Status: install ok installed",
    "Priority: optional",
    "Section: libs",
    "Installed-Size: 1234",
    "Maintainer: Someone <someone@example.org>",
    "Architecture: amd64",
    `Source: src-${i % 500} (1.${i}-1)`,
    `Version: 1.${i}-1+b1`,
    "Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), zlib1g (>= 1:1.2.0)",
    `Description: package number ${i}`,
    ...Array.from({ length: 12 }, (_, l) => ` line ${l} of a long description that goes on for a while here`),
    "",
    "",
  ].join("\n");
const parts: string[] = [];
let size = 0;
for (let i = 0; size < mib * 1024 ** 2; i++) {
  const s = stanza(i);
  parts.push(s);
  size += s.length;
}
const content = Buffer.from(parts.join(""));
parts.length = 0;
(globalThis as { gc?: () => void }).gc?.();
const base = process.memoryUsage().rss;
let peak = base;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const started = process.resourceUsage().maxRSS * 1024;
const out = await dpkgAnalyzer.analyze({ path: "var/lib/dpkg/status", content });
clearInterval(timer);
// the lifetime peak counts only when the parse raised it: building the file above may have peaked higher
const ended = process.resourceUsage().maxRSS * 1024;
const maxRss = ended > started ? Math.max(peak, ended) : peak;
process.stdout.write(
  `${JSON.stringify({ bytes: content.length, packages: out.packages?.length ?? 0, baseRss: base, startedMaxRss: started, peakAboveBase: maxRss - base })}\n`,
);
