import { execFileSync } from "node:child_process";
import { copyFileSync, createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../../../shared/analysis/analyzer.js";
import { dpkgAnalyzer } from "../../../shared/analysis/dpkg/dpkg-analyzer.js";
import { goAnalyzer } from "../../../shared/analysis/go/go-analyzer.js";
import { assembleInventory } from "../../../shared/analysis/inventory-image.js";
import type { LayerReport } from "../../../shared/analysis/layer-report.js";
import { mavenAnalyzer } from "../../../shared/analysis/maven/maven-analyzer.js";
import { npmAnalyzer } from "../../../shared/analysis/npm/npm-analyzer.js";
import { osAnalyzer } from "../../../shared/analysis/os/os-analyzer.js";
import { osOwnedFilesAnalyzer } from "../../../shared/analysis/os-owned/os-owned-analyzer.js";
import { readApkFiles, readRpmOwnedFiles } from "../../../shared/analysis/os-owned/package-manager-files.js";
import { pypiAnalyzer } from "../../../shared/analysis/pypi/pypi-analyzer.js";
import { packagesToMatch } from "../../../shared/matching/match.js";
import { inventoryToCycloneDx } from "../../../shared/sbom/cyclonedx.js";
import type { ResolvedImage } from "../../../shared/model/image.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { corpusPath } from "../../support/corpus.js";
import { buildDebianLanguageLayer, type DebianLanguageLayer } from "../../support/debian-language-layer.js";
import { type Entry, layerBlob, refFor, streamOf } from "../layers.js";

const LANGUAGE: Analyzer[] = [pypiAnalyzer, mavenAnalyzer, goAnalyzer, npmAnalyzer];
const ANALYZERS: Analyzer[] = [osAnalyzer, dpkgAnalyzer, ...LANGUAGE, osOwnedFilesAnalyzer(LANGUAGE)];

function image(layers: LayerReport[]): ResolvedImage {
  return {
    identity: {
      ref: "example.test/debian:lang",
      registry: "example.test",
      repository: "debian",
      digest: `sha256:${"1".repeat(64)}`,
      tags: ["lang"],
      platform: { os: "linux", architecture: "amd64" },
    },
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    // no config: the audit has nothing to read
    configDigest: "",
    config: {},
    layers: layers.map((r) => ({
      digest: r.digest,
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      size: 0,
    })),
  };
}

const inventoryOf = (reports: LayerReport[]) =>
  assembleInventory(
    image(reports),
    reports,
    reports.map(() => []),
    ANALYZERS,
  );

async function reportOf(entries: Entry[]): Promise<LayerReport> {
  const blob = await layerBlob(entries);
  return analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers: ANALYZERS, limits: DEFAULT_LIMITS });
}

let built: DebianLanguageLayer;
let debian: LayerReport;
beforeAll(async () => {
  built = await buildDebianLanguageLayer();
  // the digest only names the layer in the inventory: the file's size stands in for its hash
  const ref = refFor(Buffer.from(built.layer), "application/vnd.oci.image.layer.v1.tar");
  debian = await analyzeLayer(createReadStream(built.layer), ref, {
    analyzers: ANALYZERS,
    limits: DEFAULT_LIMITS,
  });
}, 900_000);

describe("language packages Debian packages installed (a real bookworm built by mmdebstrap)", () => {
  it("names the dpkg package dpkg-query -S names for each language package, with its version and purl", () => {
    const inv = inventoryOf([debian]);
    const dpkg = new Map(inv.packages.filter((p) => p.purl.startsWith("pkg:deb/")).map((p) => [p.name, p]));
    const language = inv.packages.filter((p) => ["PyPI", "Maven", "npm"].includes(p.ecosystem));
    expect(language.length).toBeGreaterThan(0);
    for (const pkg of language) {
      const owners = new Set(pkg.paths.map((p) => built.owners[p]));
      expect(owners.size, `${pkg.name}: ${pkg.paths.join(", ")}`).toBe(1);
      const owner = [...owners][0]!;
      expect(pkg.installedBy).toEqual({
        name: owner,
        version: dpkg.get(owner)!.version,
        purl: dpkg.get(owner)!.purl,
      });
    }
    const pyyaml = inv.packages.find((p) => p.name === "pyyaml")!;
    expect(pyyaml.version).toBe(built.pyyamlVersion);
    expect(pyyaml.installedBy?.name).toBe("python3-yaml");
    expect(
      inv.packages.find((p) => p.name === "com.fasterxml.jackson.core:jackson-core")?.installedBy?.name,
    ).toBe("libjackson2-core-java");
    // node-ms ships ms and, as a bundled component (`+~cs<version>`), @types/ms in /usr/share/nodejs
    const nodeMs = dpkg.get("node-ms")!.version;
    const [upstream, component] = /^([^+]+)\+~cs([^-]+)-/.exec(nodeMs)!.slice(1);
    const ms = inv.packages.find((p) => p.ecosystem === "npm" && p.name === "ms");
    expect(ms).toMatchObject({ version: upstream, installedBy: { name: "node-ms" } });
    expect(inv.packages.find((p) => p.name === "@types/ms")).toMatchObject({
      version: component,
      installedBy: { name: "node-ms" },
    });
    // the attribution is done with the file lists: they are not part of the inventory
    expect(inv.facts?.["os-owned-files"]).toBeUndefined();
  });

  it("leaves OS-installed language packages out of matching by default, and matches them when asked", () => {
    const inv = inventoryOf([debian]);
    const pyyaml = inv.packages.find((p) => p.name === "pyyaml")!;
    expect(packagesToMatch(inv.packages)).not.toContain(pyyaml);
    // the OS package that installed it is matched: its distribution's advisories cover the backports
    expect(packagesToMatch(inv.packages).some((p) => p.name === "python3-yaml")).toBe(true);
    expect(packagesToMatch(inv.packages, { osOwnedPackages: "both" })).toContain(pyyaml);
  });

  it("splits a package pip installed again elsewhere: that copy has no installer and is matched", async () => {
    const metadata = Object.keys(built.owners).find((p) => p.includes("PyYAML"))!;
    const pip = await reportOf([
      {
        name: "usr/local/lib/python3.11/dist-packages/PyYAML-6.0.dist-info/METADATA",
        content: "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n",
      },
    ]);
    const inv = inventoryOf([debian, pip]);
    const copies = inv.packages.filter((p) => p.name === "pyyaml");
    expect(copies.map((p) => [p.paths, p.installedBy?.name])).toEqual(
      expect.arrayContaining([
        [[metadata], "python3-yaml"],
        [["usr/local/lib/python3.11/dist-packages/PyYAML-6.0.dist-info/METADATA"], undefined],
      ]),
    );
    expect(packagesToMatch(inv.packages).filter((p) => p.name === "pyyaml")).toHaveLength(1);
    // the SBOM lists both copies, the OS-installed one naming its installer
    const bom = JSON.parse(inventoryToCycloneDx([inv])) as {
      components: { name: string; properties?: { name: string; value: string }[] }[];
    };
    const installers = bom.components
      .filter((c) => c.name === "pyyaml")
      .map((c) => c.properties?.find((p) => p.name === "portcullis:installedBy")?.value);
    expect(installers.sort()).toEqual([expect.stringMatching(/^pkg:deb\/debian\/python3-yaml@/), undefined]);
  });

  it("drops the attribution when a later layer purges the OS package's file list", async () => {
    const purge = await reportOf([{ name: "var/lib/dpkg/info/.wh.python3-yaml.list", content: "" }]);
    const inv = inventoryOf([debian, purge]);
    expect(inv.packages.find((p) => p.name === "pyyaml")?.installedBy).toBeUndefined();
  });
});

describe("file lists of rpm and apk", () => {
  it("reads every package's files from a real SQLite rpmdb (CBL-Mariner 2.0) as rpm -qa's FILENAMES lists them", async () => {
    const db = corpusPath("pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite");
    const scratch = mkdtempSync(path.join(tmpdir(), "portcullis-rpmql-"));
    try {
      // rpm opens its database for writing locks: a copy, never the corpus in place
      copyFileSync(db, path.join(scratch, "rpmdb.sqlite"));
      const out = execFileSync("rpm", ["--dbpath", scratch, "-qa", "--qf", "[%{=NAME}\\t%{FILENAMES}\\n]"], {
        maxBuffer: 1 << 28,
      }).toString();
      const expected = out
        .split("\n")
        .filter((l) => l && !l.endsWith("\t(none)") && !l.startsWith("gpg-pubkey\t"))
        .sort();
      const owners = await readRpmOwnedFiles(readFileSync(db), () => true);
      const got = owners.flatMap((o) => o.paths.map((p) => `${o.name}\t${p}`)).sort();
      expect(got.length).toBeGreaterThan(1000);
      expect(got).toEqual(expected);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("reads the file lists of an NDB rpmdb (SLE 15 BCI), which Debian's rpm cannot open, under rpm -qa's names", async () => {
    const dir = "pkgdb/rpm/go-rpmdb/sle15-bci";
    const names = new Set(
      readFileSync(corpusPath(`${dir}/expected.rpm-qa.tsv`), "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split("\t")[0]),
    );
    const owners = await readRpmOwnedFiles(readFileSync(corpusPath(`${dir}/Packages.db`)), () => true);
    for (const o of owners) expect(names.has(o.name)).toBe(true);
    expect(owners.find((o) => o.name === "bash")?.paths).toContain("/bin/bash");
  });

  it("reads apk's R: lines under their F: directory, each under its P: package", () => {
    const text = [
      "P:py3-yaml",
      "V:6.0.1-r1",
      "F:usr/lib/python3.12/site-packages/PyYAML-6.0.1.dist-info",
      "R:METADATA",
      "R:RECORD",
      "",
      "R:orphan-before-any-package",
      "P:busybox",
      "F:bin",
      "R:busybox",
    ].join("\n");
    expect(readApkFiles(text, () => true)).toEqual([
      {
        name: "py3-yaml",
        paths: [
          "/usr/lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/METADATA",
          "/usr/lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/RECORD",
        ],
      },
      { name: "busybox", paths: ["/bin/busybox"] },
    ]);
  });

  it("answers hostile lists with nothing rather than a crash: garbage, truncated databases, NUL bytes", async () => {
    const analyzer = osOwnedFilesAnalyzer(LANGUAGE);
    const garbage = Buffer.alloc(1 << 20, 0xff);
    for (const path of ["var/lib/dpkg/info/x.list", "lib/apk/db/installed", "var/lib/rpm/rpmdb.sqlite"])
      expect(await analyzer.analyze({ path, content: garbage })).toEqual({});
    const sqlite = readFileSync(corpusPath("pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite"));
    const truncated = await analyzer.analyze({
      path: "var/lib/rpm/rpmdb.sqlite",
      content: sqlite.subarray(0, sqlite.length >> 1),
    });
    expect(truncated.warnings ?? []).toEqual([]);
    const nul = Buffer.from("/usr/lib/python3/dist-packages/a-1.dist-info/METADATA\u0000\n/usr/bin/\u0000\n");
    expect(() => analyzer.analyze({ path: "var/lib/dpkg/info/x.list", content: nul })).not.toThrow();
  });
});
