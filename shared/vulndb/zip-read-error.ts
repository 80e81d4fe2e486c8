/** What is wrong with an OSV export zip read from disk (`osv-export-feed.ts`, `block-cache-reader.ts`). */
export type ZipReadProblem = "truncated" | "unsupported-compression" | "size-mismatch" | "crc-mismatch";

/** A damaged export zip; the feed reports it as `db-feed-corrupt`, naming the file. */
export class ZipReadError extends Error {
  readonly reason: ZipReadProblem;
  constructor(reason: ZipReadProblem, message: string) {
    super(message);
    this.name = "ZipReadError";
    this.reason = reason;
  }
}
