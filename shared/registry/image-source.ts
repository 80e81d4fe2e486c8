import type { Readable } from "node:stream";
import type { LayerRef, ResolvedImage } from "../model/image.js";

/**
 * Which platform images of an index to scan: `undefined` = linux/amd64 when the index has it,
 * else every image; "all" = every image; otherwise os/arch[/variant] (and optionally a Windows os.version prefix).
 */
export type PlatformSelector =
  | undefined
  | "all"
  | { os: string; architecture: string; variant?: string; osVersion?: string };

/**
 * One interface for every transport (registry, oci:, oci-archive:, docker-archive:): the same
 * analysis path runs on all of them.
 */
export interface ImageSource {
  /** the reference as the user gave it */
  readonly ref: string;
  /** Resolves tag/index to single-platform images (attestation manifests skipped). */
  resolve(platform?: PlatformSelector): Promise<ResolvedImage[]>;
  /**
   * Opens a layer blob as stored (compressed). The stream is verified against `layer.digest`
   * while it flows and fails with ScanError("digest-mismatch") at its end when the bytes differ.
   */
  openBlob(layer: LayerRef): Promise<Readable>;
  close?(): Promise<void>;
}
