import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { JSONParser } from "@streamparser/json";
import { ScanError } from "../model/errors.js";

export interface JsonStreamLimits {
  /** most bytes read (after gunzip) from one document: a gzip bomb stops here */
  maxDocumentBytes?: number;
  /** most bytes between two values handed out: one oversized record cannot fill memory */
  maxValueBytes?: number;
}

/** A value the path selected, with the keys that lead to it (`["openssl", "CVE-2024-1"]`). */
export type JsonValueHandler = (value: unknown, keys: readonly (string | number | undefined)[]) => void;

const GZIP_MAGIC = [0x1f, 0x8b];

/** Whether a file starts as gzip does: feeds publish `.json.gz`, mirrors may not keep the name. */
export async function isGzipFile(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/**
 * Streams one JSON document (plain or gzip) through a JSONPath-selecting parser and hands each
 * selected value to `onValue`, keeping none of them: a 200 MB feed file costs one record's memory.
 * Malformed, truncated or oversized input rejects with `db-feed-corrupt` / `db-feed-too-large`.
 */
export async function streamJsonFile(
  file: string,
  path: string,
  onValue: JsonValueHandler,
  limits: JsonStreamLimits = {},
): Promise<number> {
  return streamJson(await openJsonFile(file), path, onValue, { ...limits, name: file });
}

/** A file's bytes, gunzipped when it is gzip; a read error or a bad gzip fails the stream, never hangs it. */
export async function openJsonFile(file: string): Promise<Readable> {
  if (!(await isGzipFile(file))) return createReadStream(file);
  return pipeline(createReadStream(file), createGunzip(), () => {
    // the error reaches whoever reads the gunzip stream; destroying the pair is pipeline's job
  });
}

export async function streamJson(
  source: Readable,
  path: string,
  onValue: JsonValueHandler,
  limits: JsonStreamLimits & { name: string },
): Promise<number> {
  const maxDocument = limits.maxDocumentBytes ?? 4 * 1024 ** 3;
  const maxValue = limits.maxValueBytes ?? 16 * 1024 ** 2;
  const parser = new JSONParser({ paths: [path], keepStack: false });
  let failure: Error | undefined;
  let count = 0;
  let total = 0;
  let sinceValue = 0;
  parser.onValue = ({ value, key, stack }) => {
    sinceValue = 0;
    count++;
    onValue(value, [...stack.slice(1).map((s) => s.key), key]);
  };
  parser.onError = (err) => {
    failure ??= err;
  };
  const corrupt = (message: string, cause?: unknown) =>
    new ScanError("db-feed-corrupt", `${limits.name} is not a readable JSON document: ${message}`, {
      ...(cause ? { cause } : {}),
    });
  try {
    for await (const chunk of source) {
      const bytes = chunk as Buffer;
      total += bytes.length;
      sinceValue += bytes.length;
      if (total > maxDocument)
        throw new ScanError("db-feed-too-large", `${limits.name} is over ${maxDocument} bytes of JSON`);
      parser.write(bytes);
      if (failure) throw corrupt(failure.message, failure);
      if (sinceValue > maxValue)
        throw new ScanError("db-feed-too-large", `${limits.name} has a record over ${maxValue} bytes`);
    }
    if (!parser.isEnded) parser.end();
  } catch (err) {
    source.destroy();
    if (err instanceof ScanError) throw err;
    throw corrupt((err as Error).message, err);
  }
  if (failure) throw corrupt(failure.message, failure);
  if (total === 0) throw corrupt("empty");
  return count;
}
