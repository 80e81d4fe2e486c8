import type { ShadowEntry } from "./shadow.js";
import type { SshdLine } from "./sshd-config.js";
import type { SudoersGrant } from "./sudoers.js";

/** What the Linux audit keeps of one file in a LayerReport: parsed settings, never a hash or a secret. */
export type LinuxAuditData =
  | { kind: "shadow"; entries: ShadowEntry[] }
  | { kind: "sshd"; lines: SshdLine[] }
  | { kind: "sudoers"; grants: SudoersGrant[] }
  /** an executable or setuid/setgid file's mode, from its tar header */
  | { kind: "mode"; mode: number }
  /** a package database's file list: absolute paths, one per line */
  | { kind: "owned"; paths: string };
