import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { ChunkedBytes } from "../../../shared/analysis/chunked-bytes.js";
import { readJavaArchive } from "../../../shared/analysis/maven/java-archive.js";
import { identifyMavenPackage, mavenAnalyzer } from "../../../shared/analysis/maven/maven-analyzer.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { corpusPath } from "../../support/corpus.js";
import { runTool } from "../../support/run-tool.js";
import { refFor, streamOf } from "../layers.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEBIAN_JARS = "/usr/share/java";
const work = mkdtempSync(path.join(tmpdir(), "portcullis-maven-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Java's own reading (JarFile + Properties) of each jar's pom.properties: file → sorted coordinates. */
function javaReading(files: string[]): Map<string, string[]> {
  const out = execFileSync("java", [path.join(HERE, "ReadJars.java"), ...files], {
    maxBuffer: 1 << 26,
  }).toString();
  return new Map(
    out
      .trim()
      .split("\n")
      .map((line) => {
        const [file, list] = line.split("\t") as [string, string];
        return [file, list ? list.split(",") : []];
      }),
  );
}

type Plan = { name: string; file?: string; text?: string; zeros?: number; zip?: { entries: Plan[] } };
function makeZip(
  name: string,
  entries: Plan[],
  lie?: { name: string; size: number },
  options: { zip64?: boolean } = {},
): Buffer {
  const out = path.join(work, name);
  execFileSync("python3", [path.join(HERE, "make-zip.py")], {
    input: JSON.stringify({ out, entries, lie, ...options }),
  });
  return readFileSync(out);
}

const ids = (packages: { groupId: string; artifactId: string; version: string }[]) =>
  packages.map((p) => `${p.groupId}:${p.artifactId}@${p.version}`).sort();

// Debian's lib*-java packages (libmaven3-core-java and its dependencies) ship real Maven-built jars
const debianJars = readdirSync(DEBIAN_JARS)
  .filter((f) => f.endsWith(".jar"))
  .map((f) => path.join(DEBIAN_JARS, f))
  .filter((f) => statSync(f).isFile());
const expected = javaReading(debianJars);
const withPom = debianJars.filter((f) => (expected.get(f) ?? []).length > 0);

describe("Maven, Debian's jars", () => {
  it("finds every pom.properties artifact that Java's JarFile reads, shaded ones included", async () => {
    expect(withPom.length).toBeGreaterThan(20);
    for (const file of withPom) {
      const read = await readJavaArchive(readFileSync(file), file);
      expect(read.problems, file).toEqual([]);
      expect(ids(read.packages), file).toEqual(expected.get(file));
    }
  });

  it("names them group:artifact in the Maven ecosystem with a maven purl", async () => {
    const file = withPom.find((f) => f.endsWith("maven3-core.jar")) ?? withPom[0]!;
    const out = await mavenAnalyzer.analyze({
      path: `usr/share/java/${path.basename(file)}`,
      content: readFileSync(file),
    });
    const first = out.packages![0]!;
    expect(first).toMatchObject({ kind: "maven", ecosystem: "Maven" });
    expect(first.name).toMatch(/^[^:]+:[^:]+$/);
    const [group, artifact] = first.name.split(":") as [string, string];
    expect(identifyMavenPackage(first).purl).toBe(`pkg:maven/${group}/${artifact}@${first.version}`);
  });

  it("reads nested archives: a war holding a fat jar holding jars, as Java reads each inner jar", async () => {
    const inner = withPom.slice(0, 4);
    const war = makeZip("app.war", [
      { name: "WEB-INF/web.xml", text: "<web-app/>" },
      { name: `WEB-INF/lib/${path.basename(inner[0]!)}`, file: inner[0]! },
      {
        name: "WEB-INF/lib/fat.jar",
        zip: { entries: inner.slice(1).map((f) => ({ name: `BOOT-INF/lib/${path.basename(f)}`, file: f })) },
      },
    ]);
    const read = await readJavaArchive(war, "app.war");
    expect(read.problems).toEqual([]);
    expect(ids(read.packages)).toEqual([...new Set(inner.flatMap((f) => expected.get(f)!))].sort());
  });

  it("falls back to the manifest when a jar has no pom.properties (syft's jackson-core manifest)", async () => {
    const dir = corpusPath("pkgdb/java/syft/jar-metadata/com.fasterxml.jackson.core.jackson-core-2.15.2");
    const jar = makeZip("jackson-core-2.15.2.jar", [
      { name: "META-INF/MANIFEST.MF", file: path.join(dir, "META-INF/MANIFEST.MF") },
    ]);
    // the fixture is named for the artifact it describes
    expect(ids((await readJavaArchive(jar, "jackson-core-2.15.2.jar")).packages)).toEqual([
      "com.fasterxml.jackson.core:jackson-core@2.15.2",
    ]);
  });
});

describe("Maven, jars as the layer walk hands them over (chunks, never joined)", () => {
  it("reads zip64 archives (zip64 end record, locator and extra fields) as Java does, whole and in chunks", async () => {
    const jars = withPom.slice(0, 3);
    const zip64 = makeZip(
      "zip64.jar",
      [
        { name: "META-INF/MANIFEST.MF", text: "Manifest-Version: 1.0\n" },
        ...jars.map((f) => ({ name: `lib/${path.basename(f)}`, file: f })),
        {
          name: "META-INF/maven/org.example/app/pom.properties",
          text: "groupId=org.example\nartifactId=app\nversion=2.1\n",
        },
      ],
      undefined,
      { zip64: true },
    );
    // the end record defers to the zip64 one: this is the zip64 path, not the classic one
    expect(zip64.readUInt16LE(zip64.length - 22 + 10)).toBe(0xffff);
    const file = path.join(work, "zip64.jar");
    const want = [
      ...new Set([...javaReading([file]).get(file)!, ...jars.flatMap((f) => expected.get(f)!)]),
    ].sort();
    expect(want).toContain("org.example:app@2.1");
    for (const content of [
      zip64,
      new ChunkedBytes([
        zip64.subarray(0, 100),
        zip64.subarray(100, zip64.length - 50),
        zip64.subarray(zip64.length - 50),
      ]),
    ]) {
      const read = await readJavaArchive(content, "zip64.jar");
      expect(read.problems).toEqual([]);
      expect(ids(read.packages)).toEqual(want);
    }
  });

  it("lists every jar of a layer (a 2.9 MB one in many chunks, a hardlinked one) as Java reads it", async () => {
    const root = path.join(work, "layer");
    const jars = withPom.filter((f) => statSync(f).size > 1024 * 1024).concat(withPom.slice(0, 5));
    expect(jars.some((f) => statSync(f).size > 2 * 1024 * 1024)).toBe(true);
    mkdirSync(path.join(root, "opt/app/lib"), { recursive: true });
    for (const f of jars) copyFileSync(f, path.join(root, "opt/app/lib", path.basename(f)));
    mkdirSync(path.join(root, "srv"), { recursive: true });
    linkSync(path.join(root, "opt/app/lib", path.basename(jars[0]!)), path.join(root, "srv/linked.jar"));
    const out = path.join(work, "layer.tar.gz");
    await runTool("tar", ["--sort=name", "-czf", out, "-C", root, "opt", "srv"]);
    const bytes = readFileSync(out);
    const report = await analyzeLayer(streamOf(bytes), refFor(bytes), {
      analyzers: [mavenAnalyzer],
      limits: DEFAULT_LIMITS,
    });
    expect(report.links).toContainEqual(
      expect.objectContaining({ path: "srv/linked.jar", type: "hardlink" }),
    );
    expect(report.warnings).toEqual([]);
    const found = new Map(
      report.files.map((f) => [
        f.path,
        (f.output.packages ?? []).map((p) => `${p.name}@${p.version}`).sort(),
      ]),
    );
    const wanted = new Map([
      ...jars.map((f) => [`opt/app/lib/${path.basename(f)}`, expected.get(f)!] as const),
      ["srv/linked.jar", expected.get(jars[0]!)!] as const,
    ]);
    expect(found).toEqual(wanted);
  }, 120_000);
});

describe("Maven, hostile archives", () => {
  const pom = (g: string) => ({
    name: `META-INF/maven/${g}/a/pom.properties`,
    text: `groupId=${g}\nartifactId=a\nversion=1.0\n`,
  });
  const limits = { maxDepth: 3, maxInflatedBytes: 8 * 1024 * 1024, maxEntries: 50 };

  it("stops at the nesting limit with a warning, keeping what lies above it", async () => {
    let plan: { entries: Plan[] } = { entries: [pom("g5")] };
    for (let i = 4; i >= 1; i--) plan = { entries: [pom(`g${i}`), { name: `lib/l${i}.jar`, zip: plan }] };
    const read = await readJavaArchive(makeZip("deep.jar", plan.entries), "deep.jar", limits);
    expect(ids(read.packages)).toEqual(["g1:a@1.0", "g2:a@1.0", "g3:a@1.0"]);
    expect(read.problems.join("\n")).toMatch(/nested deeper than 3/);
  });

  it("never inflates a nested archive past the byte budget", async () => {
    const bomb = makeZip("bomb.jar", [pom("outer"), { name: "lib/huge.jar", zeros: 64 * 1024 * 1024 }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const read = await readJavaArchive(bomb, "bomb.jar", limits);
    expect(ids(read.packages)).toEqual(["outer:a@1.0"]);
    expect(read.problems.join("\n")).toMatch(/would inflate past/);
  });

  it("catches an entry that inflates to more than its header declares", async () => {
    const liar = makeZip("liar.jar", [{ name: "lib/x.jar", zeros: 4 * 1024 * 1024 }], {
      name: "lib/x.jar",
      size: 100,
    });
    const read = await readJavaArchive(liar, "liar.jar", limits);
    expect(read.packages).toEqual([]);
    expect(read.problems.length).toBeGreaterThan(0);
  });

  it("answers too many entries, garbage and truncation with warnings", async () => {
    const many = makeZip(
      "many.jar",
      Array.from({ length: 60 }, (_, i) => ({ name: `f${i}`, text: "x" })),
    );
    expect((await readJavaArchive(many, "many.jar", limits)).problems[0]).toMatch(/60 entries/);
    const real = readFileSync(withPom[0]!);
    for (const content of [
      Buffer.from("PK\u0003\u0004 not a zip"),
      real.subarray(0, real.length - 30),
      Buffer.alloc(0),
    ]) {
      const out = await mavenAnalyzer.analyze({ path: "app/x.jar", content });
      expect(out.packages).toEqual([]);
      expect(out.warnings?.length).toBeGreaterThan(0);
    }
  });
});
