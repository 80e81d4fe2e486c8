// The integrity digests are taken on a second thread while the walk reads on: every file gets exactly
// the digests it would get on the walk's thread, whatever the walk does with its buffer afterwards,
// however much is in flight, and when the thread dies half-way.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type DigestTarget, DigestThread } from "../../../shared/analysis/content/digest-thread.js";
import type { DigestAlgo } from "../../../shared/analysis/content/file-digests.js";

const ALGOS: DigestAlgo[] = ["md5", "sha256", "sha1"];
const expected = (bytes: Buffer, algos = ALGOS) =>
  Object.fromEntries(algos.map((a) => [a, createHash(a).update(bytes).digest("hex")]));

describe("the digest thread", () => {
  it("takes each file's digests from a copy: the caller reuses its buffer at once", async () => {
    const thread = new DigestThread();
    const scratch = Buffer.alloc(4096);
    const files: { bytes: Buffer; target: DigestTarget; algos: DigestAlgo[] }[] = [];
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(1 + ((i * 37) % 4000));
      bytes.copy(scratch);
      const algos = i % 3 === 0 ? (["md5"] as DigestAlgo[]) : ALGOS;
      const target: DigestTarget = {};
      await thread.digest(scratch.subarray(0, bytes.length), algos, target);
      scratch.fill(0xaa); // what the walk's next file would do to the buffer
      files.push({ bytes, target, algos });
    }
    await thread.settle();
    for (const { bytes, target, algos } of files) expect(target).toEqual(expected(bytes, algos));
    await thread.terminate();
  });

  it("waits for room when more is in flight than the ring holds, and hashes empty and large files too", async () => {
    const thread = new DigestThread();
    const sizes = [
      0,
      ...Array.from({ length: 40 }, () => 3 * 1024 * 1024),
      7 * 1024 * 1024,
      20 * 1024 * 1024,
      1,
    ];
    const files = sizes.map((n) => ({ bytes: randomBytes(n), target: {} as DigestTarget }));
    for (const f of files) await thread.digest(f.bytes, ALGOS, f.target);
    await thread.settle();
    for (const f of files) expect(f.target).toEqual(expected(f.bytes));
    await thread.terminate();
  });

  it("loses no digest when the thread dies with files in flight: they are hashed from the ring's copies", async () => {
    const thread = new DigestThread();
    const files = Array.from({ length: 200 }, (_, i) => ({
      bytes: randomBytes(10_000 + i),
      target: {} as DigestTarget,
    }));
    // past 1 MiB: a batch has gone to the thread, the rest waits in the next one
    for (const f of files.slice(0, 150)) await thread.digest(f.bytes, ALGOS, f.target);
    // the thread dies (out of memory, killed) while it still owes answers
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (const f of files.slice(150)) await thread.digest(f.bytes, ALGOS, f.target);
    await thread.settle();
    for (const f of files) expect(f.target).toEqual(expected(f.bytes));
  });
});
