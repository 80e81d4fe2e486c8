import type { Readable } from "node:stream";

/**
 * Named files of an image on disk — an OCI layout directory, or the entries of a tar — read by name,
 * never extracted. Names are already normalised with archiveEntryName.
 */
export interface LayoutStore {
  /** how errors name the store: "oci:/images/app", "docker-archive:app.tar" */
  readonly description: string;
  /** size of a regular file, undefined when the store has no such name */
  stat(name: string): Promise<{ size: number } | undefined>;
  /** reads a small file whole; more than `maxBytes` is an error */
  read(name: string, maxBytes: number): Promise<Buffer>;
  /** streams a file */
  open(name: string): Promise<Readable>;
  close?(): Promise<void>;
}
