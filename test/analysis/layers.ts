// Builds layer blobs in memory for the analysis tests: tar-stream's pack, then gzip / zstd / plain.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import type { LayerRef } from "../../shared/model/image.js";
import { corpusPath } from "../support/corpus.js";

/** A corpus file's bytes, e.g. `pkgdb/dpkg/scalibr/valid` (see the corpus MANIFEST.md). */
export const fixture = (name: string) => readFile(corpusPath(name));

export type Entry =
  | { name: string; content: string | Buffer }
  | { name: string; symlink: string }
  | { name: string; hardlink: string }
  | { name: string; dir: true };

/** A tar archive of the entries, in order. */
export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  for (const e of entries) {
    if ("content" in e) pack.entry({ name: e.name }, e.content);
    else if ("symlink" in e) pack.entry({ name: e.name, type: "symlink", linkname: e.symlink });
    else if ("hardlink" in e) pack.entry({ name: e.name, type: "link", linkname: e.hardlink });
    else pack.entry({ name: e.name, type: "directory" });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export type Compression = "gzip" | "zstd" | "none";

export function compress(data: Buffer, compression: Compression): Buffer {
  if (compression === "gzip") return gzipSync(data);
  if (compression === "zstd") {
    const r = spawnSync("zstd", ["-q", "-c", "-"], { input: data, maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
    return r.stdout;
  }
  return data;
}

export interface Blob {
  ref: LayerRef;
  bytes: Buffer;
}

export async function layerBlob(entries: Entry[], compression: Compression = "gzip"): Promise<Blob> {
  const bytes = compress(await tarOf(entries), compression);
  return { bytes, ref: refFor(bytes) };
}

export function refFor(bytes: Buffer, mediaType = "application/vnd.oci.image.layer.v1.tar+gzip"): LayerRef {
  return {
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    mediaType,
    size: bytes.length,
  };
}

/** A readable over a buffer in small chunks, as a network stream would arrive. */
export function streamOf(bytes: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
  );
}

/** The inner `<id>/layer.tar` members of a docker-save tarball, in manifest order. */
export async function dockerSaveLayers(file: string): Promise<{ name: string; bytes: Buffer }[]> {
  const extract = tar.extract();
  const members = new Map<string, Buffer>();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(Buffer.from(c as Uint8Array));
      members.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from([await readFile(file)]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  const manifest = JSON.parse(members.get("manifest.json")!.toString()) as { Layers: string[] }[];
  return manifest[0]!.Layers.map((name) => ({ name, bytes: members.get(name)! }));
}
