import type { Analyzer, AnalyzerOutput, PackageRecord } from "../analyzer.js";
import { languageIdentity } from "../package-identity.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { readGoBuildInfo } from "./go-buildinfo.js";
import { readGoMod } from "./go-mod.js";
import { isExecutablePlace } from "../executable-places.js";
import { excerpt } from "../excerpt.js";

/** "go1.22.4" → "1.22.4" (release candidates keep their suffix: "1.23rc1"). */
const goRelease = (v: string) => v.replace(/^go/, "").replace(/\s.*$/, "");

/** `pkg:golang/<module path>@<version>` (stdlib as `pkg:golang/stdlib@v1.22.4`), in the `Go` ecosystem. */
export const identifyGoPackage = languageIdentity({
  type: "golang",
  ecosystem: "Go",
  namespace: "last-slash",
  purlVersion: (r) => (r.name === "stdlib" ? `v${r.version}` : r.version),
});

/**
 * Go modules linked into binaries (runtime/debug.BuildInfo, ELF and PE alike), and the standard
 * library as the `stdlib` package at the toolchain's version, as govulncheck matches it.
 */
export const goAnalyzer: Analyzer = {
  name: "go-binary",
  version: 2,
  maxFileSize: 512 * 1024 * 1024,
  // go.mod, and binaries: no dot in their name, or .exe
  extensions: ["mod", "", "exe"],
  required(path) {
    // a module's sources in the module cache or a vendor tree are not what the image builds
    if (path === "go.mod" || path.endsWith("/go.mod")) return !/(?:^|\/)(?:pkg\/mod|vendor)\//.test(path);
    // the OS's own bin directories too: a binary dpkg, rpm or apk installed is named installed-by (os-owned/)
    return isExecutablePlace(path);
  },
  analyze: ({ path, content }) => analyzeGo(path, content),
  // a binary is searched for its build info in the walk's chunks: none is joined or kept
  analyzeChunks: ({ path, chunks }) => analyzeGo(path, new ChunkedBytes(chunks)),
  identify: identifyGoPackage,
};

function analyzeGo(path: string, bytes: Buffer | ChunkedBytes): AnalyzerOutput {
  const content = ChunkedBytes.of(bytes);
  if (path.endsWith("go.mod")) {
    const modules = readGoMod(content.slice(0, content.length).toString("utf8"));
    return {
      packages: modules.map((m) => ({
        kind: "go-module",
        name: m.path,
        version: m.version,
        ecosystem: "Go",
      })),
    };
  }
  const head = content.slice(0, Math.min(4, content.length));
  const elf = head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46;
  const pe = content.length > 2 && head.toString("latin1", 0, 2) === "MZ";
  if (!elf && !pe) return {};
  const info = readGoBuildInfo(content);
  if (info === undefined) return {};
  if (typeof info === "string") {
    return { warnings: [{ code: "go-buildinfo-unreadable", message: `${path}: ${excerpt(info)}`, path }] };
  }
  const packages: PackageRecord[] = [];
  const add = (name: string, version: string) =>
    packages.push({ kind: "go-module", name, version, ecosystem: "Go" });
  add("stdlib", goRelease(info.goVersion));
  // a main module built from a checkout says "(devel)": there is no version to match
  if (info.main && info.main.version !== "(devel)" && info.main.version !== "")
    add(info.main.path, info.main.version);
  for (const dep of info.deps) if (dep.version) add(dep.path, dep.version);
  return { packages };
}
