// The walk hands the content engine a file of several chunks as those chunks (`analyzeChunks`): the
// engine joins only what a reader needs whole and reads ELF files and digests chunk by chunk. Whatever
// the cuts, it must say exactly what it says of the joined bytes — rule hits, signals, digests.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createContentAnalyzer, YaraEngine } from "../../../shared/analysis/content/index.js";
import { seededRandom } from "../../support/seeded-random.js";
import { elfThreatBinaries } from "./support/elf-threats.js";

const yara = new YaraEngine();
const key = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** The bytes cut into pieces of random sizes up to `max` (some empty). */
function cut(bytes: Buffer, max: number, seed: number): Buffer[] {
  const random = seededRandom(seed);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.floor(random() * max);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function bothWays(path: string, bytes: Buffer, parts = { rules: true, integrity: true }) {
  const analyzer = createContentAnalyzer({ yara, parts });
  const layer = `sha256:${"1".repeat(64)}`;
  const joined = await analyzer.analyze({ path, content: bytes, layer });
  const chunked = [];
  for (const [max, seed] of [
    [7, 1],
    [4096, 2],
    [65536, 3],
  ] as const)
    chunked.push(await analyzer.analyzeChunks!({ path, chunks: cut(bytes, max, seed), layer }));
  await analyzer.settle?.(layer);
  return { joined, chunked };
}

describe("the content engine over a file's chunks", () => {
  it("finds an ELF file's traits, at the same offsets, and takes the same digests", async () => {
    const bin = await elfThreatBinaries();
    const { joined, chunked } = await bothWays("usr/bin/traits", bin.traitsBigCode);
    const file = (joined.data as Record<string, unknown>[])[0]!;
    expect(file.yara).toEqual(expect.arrayContaining([expect.objectContaining({ rule: "yara/coin-miner" })]));
    expect(file.md5).toEqual(expect.any(String));
    for (const c of chunked) expect(c).toEqual(joined);
  });

  it("finds a secret in a text file and an ELF signal in a drop place, as on the joined bytes", async () => {
    const text = Buffer.from(`# config\n${"x = 1\n".repeat(3000)}${key}`);
    const secret = await bothWays("etc/app/settings.conf", text);
    expect((secret.joined.data as Record<string, unknown>[])[0]!.secrets).toHaveLength(1);
    for (const c of secret.chunked) expect(c).toEqual(secret.joined);
    const bin = await elfThreatBinaries();
    const dropped = await bothWays("tmp/x", bin.traits, { rules: true, integrity: false });
    const file = (dropped.joined.data as Record<string, unknown>[])[0]!;
    expect(file.elf).toEqual([expect.objectContaining({ rule: "elf/unusual-location" })]);
    for (const c of dropped.chunked) expect(c).toEqual(dropped.joined);
  });

  it("hashes a file no rule reads without joining it, to the same digests", async () => {
    const random = seededRandom(7);
    const data = Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(random() * 256)));
    const { joined, chunked } = await bothWays("usr/share/app/data.bin", data);
    expect((joined.data as Record<string, unknown>[])[0]).toEqual({ kind: "file", md5: expect.any(String) });
    for (const c of chunked) expect(c).toEqual(joined);
  });
});
