import type { ErrorCode } from "./error-codes.js";

/**
 * Errors a user or an operator acts on. `permanent` tells the pipeline that retrying cannot help
 * (image gone, digest mismatch, malformed manifest), so the scan fails at once instead of looping.
 */
export class ScanError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  constructor(code: ErrorCode, message: string, options: { permanent?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ScanError";
    this.code = code;
    this.permanent = options.permanent ?? true;
  }
}

export const isPermanent = (err: unknown): boolean => err instanceof ScanError && err.permanent;

/**
 * A state the code rules out: seeing one is a bug in portcullis, not a problem with the input.
 * Not a `ScanError` (no user can act on it), and never permanent: a retry may not meet it again.
 */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`internal error: ${message}`);
    this.name = "InvariantError";
  }
}
