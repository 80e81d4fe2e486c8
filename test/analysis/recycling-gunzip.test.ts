// The layer walk's gunzip reuses its output buffers once the walk releases them: what it inflates is
// what node's Gunzip inflates (split anywhere, multi-member, trailing bytes), a damaged stream is an
// error, and a path-specific analyzer that keeps its file still holds the right bytes after the
// inflater has written many more chunks into reused buffers.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import zlib, { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../../shared/analysis/analyzer.js";
import { createDecompressor } from "../../shared/analysis/decompress.js";
import { RecyclingGunzip } from "../../shared/analysis/recycling-gunzip.js";
import { DEFAULT_LIMITS } from "../../shared/model/limits.js";
import { layerBlob, streamOf } from "./layers.js";

const CHUNK = 128 * 1024;

/** Inflates `input` fed in `piece`-byte writes; each output chunk is copied, then released at once. */
async function inflate(input: Buffer, piece: number): Promise<{ out: Buffer; reused: boolean }> {
  const gunzip = RecyclingGunzip.create(CHUNK);
  if (!gunzip) throw new Error("this runtime's zlib has no native handle to drive");
  const copies: Buffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  let offset = 0;
  let reused = false;
  gunzip.on("data", (chunk: Buffer) => {
    copies.push(Buffer.from(chunk));
    offset += chunk.length;
    if (chunk.byteOffset === 0 && seen.has(chunk.buffer)) reused = true;
    seen.add(chunk.buffer);
    gunzip.release(offset);
  });
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on("end", resolve);
    gunzip.on("error", reject);
  });
  for (let i = 0; i < input.length; i += piece) gunzip.write(input.subarray(i, i + piece));
  gunzip.end();
  await done;
  return { out: Buffer.concat(copies), reused };
}

/** What node's own streaming Gunzip makes of the same bytes. */
async function nodeGunzip(input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from([input]).pipe(zlib.createGunzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// compressible but not trivially: words from a small vocabulary, a few MB of them
const text = Buffer.from(
  Array.from(
    { length: 400_000 },
    (_, i) => ["layer", "tar", "gzip", "node_modules", String(i % 977)][i % 5],
  ).join(" "),
);

describe("RecyclingGunzip", () => {
  it("inflates what gunzipSync inflates, from writes of any size, reusing released buffers", async () => {
    const input = Buffer.concat([gzipSync(text), gzipSync(randomBytes(3 * CHUNK + 17))]);
    const expected = zlib.gunzipSync(input);
    for (const piece of [1, 777, 64 * 1024, input.length]) {
      const { out, reused } = await inflate(input, piece);
      expect(out.equals(expected), `writes of ${piece} bytes`).toBe(true);
      expect(reused).toBe(true);
    }
  });

  it("ignores bytes after the gzip stream as node's Gunzip does", async () => {
    const input = Buffer.concat([gzipSync(text), Buffer.alloc(1024)]);
    expect((await inflate(input, 4096)).out.equals(await nodeGunzip(input))).toBe(true);
  });

  it("rejects a truncated stream, a corrupt one and one that is not gzip", async () => {
    const whole = gzipSync(text);
    await expect(inflate(whole.subarray(0, whole.length >> 1), 4096)).rejects.toThrow(
      /unexpected end of file/,
    );
    const corrupt = Buffer.from(whole);
    corrupt.fill(0xff, 100, 400);
    await expect(inflate(corrupt, 4096)).rejects.toThrow();
    await expect(inflate(randomBytes(4096), 512)).rejects.toThrow(/incorrect header check/);
  });

  it("is the layer walk's gzip decompressor", () => {
    expect(createDecompressor("gzip")).toBeInstanceOf(RecyclingGunzip);
  });
});

describe("the layer walk with a recycling inflater", () => {
  it("hands a path-specific analyzer bytes of its own: what it kept is intact after 30 MB more", async () => {
    const kept = new Map<string, Buffer>();
    const keeper: Analyzer = {
      name: "keeper",
      version: 1,
      maxFileSize: 1 << 20,
      required: (path) => path.startsWith("etc/keep/"),
      analyze({ path, content }) {
        kept.set(path, content);
        return {};
      },
    };
    const files = Array.from({ length: 8 }, (_, i) => ({
      name: `etc/keep/${i}.conf`,
      content: Buffer.from(`setting-${i}=${"x".repeat(100 + i)}\n`),
    }));
    // incompressible filler between them: many 128 KiB output buffers, reused once released
    const filler = Array.from({ length: 30 }, (_, i) => ({
      name: `opt/blob/${i}.bin`,
      content: randomBytes(1 << 20),
    }));
    const entries = files.flatMap((f, i) => [f, ...filler.slice(i * 4, i * 4 + 4)]);
    const blob = await layerBlob(entries);
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
      analyzers: [keeper],
      limits: DEFAULT_LIMITS,
    });
    expect(report.warnings).toEqual([]);
    for (const f of files) expect(kept.get(f.name)?.toString(), f.name).toBe(f.content.toString());
  });
});
