import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";

export const BENCH_CACHE = process.env.PORTCULLIS_BENCH_CACHE ?? "/var/tmp/portcullis-bench";

const DPKG_STATUS = Array.from(
  { length: 400 },
  (_, i) =>
    `Package: pkg${i}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nSource: src${i % 97} (1.${i % 13}-${i % 5})\nVersion: 1.${i % 13}-${i % 5}+b1\nDescription: synthetic package ${i}\n`,
).join("\n");

/**
 * A gzip layer of about `mb` MB uncompressed: a dpkg status database plus many files of mixed
 * compressibility (text-like and random), so gzip does realistic work.
 */
export async function syntheticLayer(mb: number): Promise<string> {
  await mkdir(BENCH_CACHE, { recursive: true });
  const file = path.join(BENCH_CACHE, `layer-${mb}mb.tar.gz`);
  if (existsSync(file)) return file;
  const pack = tar.pack();
  const tmp = `${file}.${process.pid}.tmp`;
  const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(tmp));
  pack.entry({ name: "var/lib/dpkg/status" }, DPKG_STATUS);
  const text = Buffer.from("the quick brown fox jumps over the lazy dog 0123456789\n".repeat(2000));
  let written = 0;
  for (let i = 0; written < mb * 1024 * 1024; i++) {
    const body = i % 3 === 0 ? randomBytes(64 * 1024) : text.subarray(0, 96 * 1024);
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: `usr/share/bench/${i % 100}/file-${i}` }, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    written += body.length;
  }
  pack.finalize();
  await done;
  await rename(tmp, file);
  return file;
}

/** Wall time of `gzip -dc <file> > /dev/null`, the reference for layer-analysis throughput. */
export function gunzipSeconds(file: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", `gzip -dc '${file}' > /dev/null`]);
  if (r.status !== 0) throw new Error(`gzip failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** CPU time (user + system) of the same `gzip -dc`, as the shell's `time` reports it. */
export function gunzipCpuSeconds(file: string): number {
  const r = spawnSync("bash", ["-c", `TIMEFORMAT='%U %S'; time (gzip -dc '${file}' > /dev/null)`], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`gzip failed: ${r.stderr}`);
  const [user, system] = r.stderr.trim().split(/\s+/).slice(-2).map(Number) as [number, number];
  return user + system;
}
