/** Why a hive could not be read; `offset` is the file offset where the reader gave up. */
export type RegfErrorCode =
  | "not-regf"
  | "truncated"
  | "bad-header"
  | "bad-hbin"
  | "bad-cell"
  | "bad-offset"
  | "bad-record"
  | "bad-subkey-list"
  | "bad-value-data"
  | "value-too-large"
  | "cycle"
  | "shared-key"
  | "too-deep"
  | "too-many-keys"
  | "not-a-number";

export class RegfError extends Error {
  readonly code: RegfErrorCode;
  readonly offset: number;
  constructor(code: RegfErrorCode, offset: number, message: string) {
    super(`regf ${code} at 0x${offset.toString(16)}: ${message}`);
    this.name = "RegfError";
    this.code = code;
    this.offset = offset;
  }
}
