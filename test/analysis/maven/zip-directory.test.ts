// The in-memory central-directory reader under hostile input: every truncation and byte flip of a
// real jar, and directories that lie about their size, answer with a problem, never a crash or a hang.
// Read from the chunks a layer walk hands over, a jar cut anywhere reads as the whole one does.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChunkedBytes } from "../../../shared/analysis/chunked-bytes.js";
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

/** The bytes cut at the given offsets (ascending), as the layer walk's chunks. */
function cutAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const bounds = [0, ...offsets, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i]!, end));
}

describe("zip read from chunks", () => {
  it("reads the real jar cut at every byte of its directory and end record as it reads it whole", async () => {
    const whole = await readJavaArchive(jar, "x.jar");
    const end = jar.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const directory = jar.readUInt32LE(end + 16);
    // one cut, and a 7-byte chunk straddling it: every header and name split every way
    for (let at = directory - 64; at <= jar.length; at++) {
      expect(await readJavaArchive(new ChunkedBytes(cutAt(jar, [at])), "x.jar"), `cut at ${at}`).toEqual(
        whole,
      );
      const three = cutAt(jar, [Math.max(0, at - 3), Math.min(jar.length, at + 4)]);
      expect(await readJavaArchive(new ChunkedBytes(three), "x.jar"), `7 bytes at ${at}`).toEqual(whole);
    }
  });

  it("reads the real jar from one-byte chunks: local headers and entry data split too", async () => {
    const bytes = Array.from({ length: jar.length }, (_, i) => jar.subarray(i, i + 1));
    expect(await readJavaArchive(new ChunkedBytes(bytes), "x.jar")).toEqual(
      await readJavaArchive(jar, "x.jar"),
    );
  });

  it("answers every truncated tail of the chunked jar with a problem", async () => {
    const chunks = cutAt(
      jar,
      Array.from({ length: Math.floor(jar.length / 1000) }, (_, i) => (i + 1) * 1000),
    );
    for (let cut = 0; cut < jar.length; cut += Math.max(1, Math.floor(jar.length / 300))) {
      const kept = new ChunkedBytes(chunks).slice(0, cut);
      const read = await readJavaArchive(new ChunkedBytes(cutAt(kept, [Math.floor(cut / 2)])), "x.jar");
      expect(read.problems.length, `cut at ${cut}`).toBeGreaterThan(0);
    }
  });
});
