import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { TransferStats } from "../../shared/registry/transfer-stats.js";
import { verifyBlobStream } from "../../shared/registry/verified-blob-stream.js";

const data = Buffer.from("layer bytes ".repeat(1000));
const digestOf = (alg: "sha256" | "sha512", b: Buffer) => `${alg}:${createHash(alg).update(b).digest("hex")}`;

async function consume(stream: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

describe("verifyBlobStream", () => {
  it.each(["sha256", "sha512"] as const)(
    "passes %s-verified bytes through unchanged and counts them",
    async (alg) => {
      const stats = new TransferStats();
      const out = verifyBlobStream(Readable.from([data.subarray(0, 5000), data.subarray(5000)]), {
        digest: digestOf(alg, data),
        size: data.length,
        stats,
      });
      expect(await consume(out)).toBe(data.length);
      expect(stats).toMatchObject({ blobBytes: data.length, blobsOpened: 1 });
    },
  );

  it("fails at the end when the content hashes differently", async () => {
    const out = verifyBlobStream(Readable.from([data]), { digest: digestOf("sha256", Buffer.from("other")) });
    await expect(consume(out)).rejects.toMatchObject({ code: "digest-mismatch", permanent: true });
  });

  it("fails when the stream is shorter than the descriptor's size", async () => {
    const out = verifyBlobStream(Readable.from([data]), {
      digest: digestOf("sha256", data),
      size: data.length + 1,
    });
    await expect(consume(out)).rejects.toMatchObject({
      code: "digest-mismatch",
      message: expect.stringContaining("declares"),
    });
  });

  it("turns a source failure into a retryable blob-read-failed error", async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error("socket hang up"));
      },
    });
    const err = await consume(verifyBlobStream(source, { digest: digestOf("sha256", data) })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScanError);
    expect(err).toMatchObject({ code: "blob-read-failed", permanent: false });
  });

  it("refuses digests it cannot verify", () => {
    expect(() =>
      verifyBlobStream(Readable.from([data]), { digest: "md5:d41d8cd98f00b204e9800998ecf8427e" }),
    ).toThrow(/unsupported digest/);
  });
});
