import { hash } from "node:crypto";

/**
 * Which digests the content engine takes of a file, in one place: each is a pass over the file's
 * bytes, and hashing is most of the engine's cost (per byte here: MD5 ≈ 1.4 ns, SHA-256 and SHA-1
 * ≈ 0.6 ns with the CPU's SHA instructions). A layer report is cached on its own, so a file gets its
 * package digest whether or not this layer holds a package database: a later layer's file is
 * checked against packages this layer cannot know of.
 */

/**
 * Places no package installs files in (Debian policy 9.1 and the FHS: `/usr/local`, home
 * directories, `/srv`, run-time state and caches): no package database lists a digest for them,
 * and they hold most of an application layer's bytes (language runtimes and their packages).
 */
const NOT_PACKAGED =
  /^(?:usr\/local|home|root|tmp|var\/tmp|var\/cache|var\/log|var\/lib\/apt\/lists|run|srv|mnt|media)\//;

/** Whether a file may be one a package database lists with a digest (dpkg md5sums, conffiles). */
export const mayBePackaged = (path: string): boolean => !NOT_PACKAGED.test(path);

export type DigestAlgo = "md5" | "sha256" | "sha1";

export interface FileDigests {
  /** dpkg's integrity digest, for every file a package may own */
  md5?: string;
  /** the findings' evidence, for files that may become a finding's subject; rpm's usual digest */
  sha256?: string;
  /** apk's integrity digest, taken beside the SHA-256 (a file without it is counted, not passed) */
  sha1?: string;
}

/**
 * The digests one file needs: MD5 where a package may own it, SHA-256 and SHA-1 where a finding may
 * name it (the apk and rpm cross-checks use those; files without them are counted as unverified).
 */
export function digestsFor(path: string, subject: boolean): DigestAlgo[] {
  return [
    ...(mayBePackaged(path) ? (["md5"] as const) : []),
    ...(subject ? (["sha256", "sha1"] as const) : []),
  ];
}

/** `digestsFor`'s digests of one file, taken here (`digest-thread.ts` takes them on a second thread). */
export function fileDigests(path: string, content: Buffer, subject: boolean): FileDigests {
  return Object.fromEntries(digestsFor(path, subject).map((algo) => [algo, hash(algo, content)]));
}
