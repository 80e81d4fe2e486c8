import { ScanError } from "../model/errors.js";

/** Reads a fetch Response body into memory, refusing (without buffering) anything larger than `maxBytes`. */
export async function readBoundedBody(response: Response, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(what, maxBytes, declared);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(what, maxBytes);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(what: string, maxBytes: number, declared?: number): ScanError {
  const size = declared === undefined ? "more than" : `${declared} bytes, over`;
  return new ScanError("too-large", `${what}: ${size} the ${maxBytes}-byte limit (limits.maxManifestBytes)`);
}
