import { hash } from "node:crypto";

/**
 * Which digests the content engine takes of a file, in one place: each is a pass over the file's
 * bytes, and hashing is most of the engine's cost (per byte here: MD5 ≈ 1.4 ns, SHA-256 and SHA-1
 * ≈ 0.6 ns with the CPU's SHA instructions). A layer report is cached on its own, so a file gets its
 * package digest whether or not this layer holds a package database: a later layer's file is
 * checked against packages this layer cannot know of. MD5 (dpkg's) is always taken where a package
 * may own the file; apk's SHA-1 is left out once the layer has shown dpkg's marks and no other
 * manager's (`LayerMarks`). The SHA-256 stays: it is also the findings' evidence.
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
 * name it (the apk and rpm cross-checks use those; files without them are counted as unverified);
 * no SHA-1 in a layer that shows dpkg's marks alone (`LayerMarks`).
 */
export function digestsFor(path: string, subject: boolean, dpkgOnly = false): DigestAlgo[] {
  return [
    ...(mayBePackaged(path) ? (["md5"] as const) : []),
    ...(subject ? (dpkgOnly ? (["sha256"] as const) : (["sha256", "sha1"] as const)) : []),
  ];
}

type Manager = "dpkg" | "rpm" | "apk";

/** Paths only a package manager's own files take: its database, its configuration. */
const MARKS: readonly [RegExp, Manager][] = [
  [/^(?:var\/lib\/dpkg|etc\/dpkg)\//, "dpkg"],
  [/^(?:var\/lib\/rpm|usr\/lib\/sysimage\/rpm|etc\/rpm|etc\/dnf|etc\/yum\.repos\.d|etc\/zypp)\//, "rpm"],
  [/^(?:lib\/apk|usr\/lib\/apk|etc\/apk)\//, "apk"],
];

const MARKED = /^(?:var\/lib\/|etc\/|usr\/lib\/(?:sysimage|apk)\/|lib\/apk\/)/;

/**
 * The package managers one layer has shown so far, in tar order. A layer that installs packages
 * holds them and their database, and a sorted tar shows `etc/dpkg/` before `usr/`: from there on,
 * apk's SHA-1 cannot check the layer's files and is not taken. Files before any mark, and every file
 * of a layer without one (a later layer that replaces a packaged file), get every digest. Should an
 * apk database list such a file after all, the cross-check counts it as unverified: never a pass.
 */
export class LayerMarks {
  private readonly seen = new Set<Manager>();

  see(path: string): void {
    // every mark lies under var/, etc/, usr/lib/ or lib/: most paths (usr/share, usr/bin …) test none
    if (!MARKED.test(path)) return;
    for (const [mark, manager] of MARKS) if (mark.test(path)) this.seen.add(manager);
  }

  get dpkgOnly(): boolean {
    return this.seen.size === 1 && this.seen.has("dpkg");
  }
}

/** `digestsFor`'s digests of one file, taken here (`digest-thread.ts` takes them on a second thread). */
export function fileDigests(path: string, content: Buffer, subject: boolean, dpkgOnly = false): FileDigests {
  return Object.fromEntries(digestsFor(path, subject, dpkgOnly).map((algo) => [algo, hash(algo, content)]));
}
