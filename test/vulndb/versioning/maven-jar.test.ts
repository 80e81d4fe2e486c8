import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { maven } from "../../../shared/vulndb/versioning/maven.js";
import { corpusPath } from "../../support/corpus.js";
import { runTool } from "../../support/run-tool.js";
import { seededRandom } from "../../support/seeded-random.js";
import { opOf } from "./vector-file.js";

// Debian's libmaven3-core-java ships maven-artifact (ComparableVersion) under these names
const JARS = ["/usr/share/java/maven3-artifact.jar", "/usr/share/java/maven-artifact-3.x.jar"];
const SOURCE = fileURLToPath(new URL("./support/MavenOrder.java", import.meta.url));
const FILES = ["maven-versions.txt", "maven-versions-generated.txt"];

let jar: string;
let classes: string;

/** Compiles the judge once per source and jar (cached in the temp dir across runs). */
async function compileJudge(): Promise<string> {
  const source = await readFile(SOURCE);
  const key = createHash("sha256").update(source).update(jar).digest("hex").slice(0, 16);
  const dir = path.join(tmpdir(), `portcullis-maven-order-${key}`);
  if (existsSync(path.join(dir, "MavenOrder.class"))) return dir;
  const staging = await mkdtemp(path.join(tmpdir(), "portcullis-maven-order-"));
  await runTool("javac", ["-cp", jar, "-d", staging, SOURCE], { timeoutMs: 120_000 });
  await mkdir(path.dirname(dir), { recursive: true });
  // another run may have finished first: either copy is the same class
  await rename(staging, dir).catch(() => rm(staging, { recursive: true, force: true }));
  return dir;
}

/** Maven's answers for the pairs, in order. */
async function judge(pairs: readonly [string, string][]): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "portcullis-maven-pairs-"));
  try {
    const file = path.join(dir, "pairs.tsv");
    await writeFile(file, pairs.map(([a, b]) => `${a}\t${b}\n`).join(""));
    const { stdout } = await runTool(
      "java",
      ["-cp", `${jar}${path.delimiter}${classes}`, "MavenOrder", file],
      {
        timeoutMs: 300_000,
      },
    );
    return stdout.trim().split("\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every comparison line of the shared vector files, as (a, b). */
async function vectorPairs(): Promise<[string, string][]> {
  const pairs: [string, string][] = [];
  for (const f of FILES) {
    for (const line of (await readFile(corpusPath("versions", f), "utf8")).split("\n")) {
      if (line === "" || line.startsWith("# ") || line.startsWith("// ")) continue;
      const parts = line.split(" ");
      if (parts.length === 3) pairs.push([parts[0]!, parts[2]!]);
    }
  }
  return pairs;
}

function disagreements(pairs: readonly [string, string][], answers: readonly string[]): string[] {
  expect(answers).toHaveLength(pairs.length);
  const out: string[] = [];
  pairs.forEach(([a, b], i) => {
    const ours = opOf(maven.compare(a, b));
    if (ours !== answers[i]) out.push(`${a} ${answers[i]} ${b} (portcullis says ${ours})`);
  });
  return out;
}

beforeAll(async () => {
  const found = JARS.find((j) => existsSync(j));
  if (!found)
    throw new Error(`maven-artifact jar not found (${JARS.join(", ")}): apt-get install libmaven3-core-java`);
  jar = found;
  classes = await compileJudge();
}, 180_000);

describe("Maven ordering, judged by maven-artifact's ComparableVersion", () => {
  it("orders the pairs the issue found wrong as Maven does", async () => {
    const pairs: [string, string][] = [
      ["1.1.0.31-cr.0", "1.1.0.31.SNAPSHOT"],
      ["2.1-Beta", "2.1.jre"],
      ["31.1.0-RELEASE-1", "31.1.0.x"],
      ["20.2.10-0", "20.2.10-final.2"],
      ["11.1.SNAPSHOT", "11.1cr-0"],
    ];
    expect(disagreements(pairs, await judge(pairs))).toEqual([]);
  });

  it("agrees on every line of the shared vector files, whatever the files say", async () => {
    const pairs = await vectorPairs();
    expect(disagreements(pairs, await judge(pairs))).toEqual([]);
  }, 300_000);

  it("agrees on random pairs of real Maven versions, both ways round", async () => {
    const versions = [...new Set((await vectorPairs()).flat())].sort();
    const random = seededRandom(20_251_205);
    const pick = () => versions[Math.floor(random() * versions.length)]!;
    const pairs: [string, string][] = [];
    for (let i = 0; i < 20_000; i++) {
      const [a, b] = [pick(), pick()];
      pairs.push([a, b], [b, a]);
    }
    expect(disagreements(pairs, await judge(pairs))).toEqual([]);
  }, 300_000);
});
