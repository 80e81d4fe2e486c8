/** What is wrong with a zip the in-memory reader (`zip-directory.ts`) was given. */
export type ZipDirectoryProblem =
  | "not-a-zip"
  | "zip64"
  | "directory"
  | "out-of-range"
  | "encrypted"
  | "entry-data"
  | "unsupported-compression"
  | "size-mismatch";

/** A malformed, truncated or unsupported zip: the archive (or one entry) cannot be read. */
export class ZipDirectoryError extends Error {
  readonly reason: ZipDirectoryProblem;
  constructor(reason: ZipDirectoryProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ZipDirectoryError";
    this.reason = reason;
  }
}
