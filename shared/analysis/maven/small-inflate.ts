import zlib from "node:zlib";
import type { ZlibInternals } from "../recycling-gunzip.js";

/** Entries up to this size go through the one reused context: a jar's metadata, never a nested jar. */
export const SMALL_ENTRY = 64 * 1024;

interface Context {
  handle: NonNullable<ZlibInternals["_handle"]>;
  state: Uint32Array;
  error?: Error;
}

let shared: Context | undefined | null;

/** One raw-inflate context for the process, or null where node's zlib has no native handle to drive. */
function context(): Context | null {
  if (shared !== undefined) return shared;
  const internals = zlib.createInflateRaw() as unknown as ZlibInternals;
  const handle = internals._handle;
  if (typeof handle?.writeSync !== "function" || typeof handle.reset !== "function") {
    shared = null;
    return shared;
  }
  const ctx: Context = { handle, state: internals._writeState! };
  // the handle reports errors synchronously through this during writeSync
  handle.onerror = (message, errno, code) => {
    ctx.error = Object.assign(new Error(message), { errno, code });
  };
  shared = ctx;
  return ctx;
}

/**
 * A small deflated zip entry (at most `SMALL_ENTRY` declared bytes), inflated into a buffer one byte
 * larger than declared so a lie shows; through one reused zlib context, since `inflateRawSync` builds
 * a zlib stream per call, which cost more than inflating a pom.properties (~30 µs each).
 */
export function inflateSmallEntry(raw: Buffer, declared: number): Buffer {
  const ctx = context();
  if (ctx === null || declared > SMALL_ENTRY)
    return zlib.inflateRawSync(raw, { maxOutputLength: declared + 1, chunkSize: Math.max(declared + 1, 64) });
  const out = Buffer.allocUnsafe(declared + 1);
  ctx.error = undefined;
  ctx.handle.reset();
  ctx.handle.writeSync(zlib.constants.Z_FINISH, raw, 0, raw.length, out, 0, out.length);
  if (ctx.error) throw ctx.error;
  return out.subarray(0, out.length - ctx.state[0]!);
}
