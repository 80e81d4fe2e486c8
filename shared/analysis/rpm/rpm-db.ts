/** What a database reader hands back: the header blobs it could read and a line per one it could not. */
export interface RpmDbBlobs {
  blobs: Buffer[];
  problems: string[];
}

/** A database the reader cannot walk at all (wrong magic, truncated metadata): one warning for the file. */
export class RpmDbError extends Error {}

// far above any real distribution (RHEL full installs hold a few thousand); hostile counts stop here
export const MAX_RPM_PACKAGES = 100_000;
