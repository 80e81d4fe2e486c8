// The in-memory central-directory reader under hostile input: every truncation and byte flip of a
// real jar, and directories that lie about their size, answer with a problem, never a crash or a hang.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readJavaArchive } from "../../../shared/analysis/maven/java-archive.js";
import { readZipDirectory } from "../../../shared/analysis/maven/zip-directory.js";

const DEBIAN_JARS = "/usr/share/java";
// a small real jar (Debian's libmaven3-core-java dependencies) with a pom.properties
const jar = readdirSync(DEBIAN_JARS)
  .map((f) => path.join(DEBIAN_JARS, f))
  .filter((f) => f.endsWith(".jar") && statSync(f).isFile() && statSync(f).size < 64 * 1024)
  .map((f) => readFileSync(f))
  .find((b) => b.includes("pom.properties"))!;

describe("zip central directory, hostile input", () => {
  it("reads the real jar, then answers every truncation with a problem", async () => {
    expect(jar).toBeDefined();
    const whole = await readJavaArchive(jar, "x.jar");
    expect(whole.problems).toEqual([]);
    expect(whole.packages.length).toBeGreaterThan(0);
    for (let cut = 0; cut < jar.length; cut += Math.max(1, Math.floor(jar.length / 300))) {
      const read = await readJavaArchive(jar.subarray(0, cut), "x.jar");
      expect(read.problems.length, `cut at ${cut}`).toBeGreaterThan(0);
    }
  });

  it("survives byte flips anywhere (a result or a problem, never a throw)", async () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(jar);
      for (let j = 0; j < 4; j++) bad[next() % bad.length] = next() % 256;
      const read = await readJavaArchive(bad, "x.jar");
      expect(Array.isArray(read.packages) && Array.isArray(read.problems)).toBe(true);
    }
  });

  it("refuses a directory that claims more entries or bytes than the archive holds", () => {
    const end = jar.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const many = Buffer.from(jar);
    many.writeUInt16LE(0xfffe, end + 10);
    expect(() => readZipDirectory(many).entries(() => true)).toThrow(/malformed|past the end/);
    const far = Buffer.from(jar);
    far.writeUInt32LE(0x7ffffff0, end + 16);
    expect(() => readZipDirectory(far)).toThrow(/past the end/);
    const zip64 = Buffer.from(jar);
    zip64.writeUInt16LE(0xffff, end + 10);
    expect(() => readZipDirectory(zip64)).toThrow(/zip64 locator missing/);
  });
});
