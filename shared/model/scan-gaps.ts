import type { WarningCode } from "./warning-codes.js";
import type { ScanWarning } from "./inventory.js";

/**
 * Warnings that mean part of the image was not looked at: a package database nothing reads, a
 * distribution OSV does not publish. The policy's `unscannable` key decides their tier, so such an
 * image never passes clean.
 */
export const UNSCANNABLE_WARNING_CODES: readonly WarningCode[] = [
  "package-db-unread",
  "distribution-unsupported",
];

export const isUnscannable = (warning: ScanWarning): boolean =>
  (UNSCANNABLE_WARNING_CODES as readonly string[]).includes(warning.code);
