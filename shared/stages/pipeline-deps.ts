import type { Analyzer } from "../analysis/analyzer.js";
import type { Limits } from "../model/limits.js";
import type { Inventory, Report } from "../model/report.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import type { ImageSource } from "../registry/image-source.js";
import type { Match } from "../matching/match.js";
import type { TrackingSetup } from "../tracking/tracking-setup.js";
import type { RegistryAllowList } from "../registry/registry-allow-list.js";
import type { DbStamp } from "./db-stamp.js";
import type { DecidedReport } from "./decided-report.js";

// its own file so that `decided-report.ts`, which this file names, need not import this one
export type { DbStamp } from "./db-stamp.js";

/**
 * What every stage needs, chosen at one composition root (the local host, or `functions/`):
 * stages import no Azure SDK and no transport — only these ports.
 */
export interface PipelineDeps {
  tables: TableStore;
  blobs: BlobStore;
  bus: BusSender;
  /** opens a registry image (credentials, insecure registries and ACR identity are the root's business) */
  openSource(ref: string): Promise<ImageSource>;
  /**
   * The manifest digests `registry/repository:tag` points at now ([] when the tag is gone): the
   * still-in-use sweep's one HEAD per tag. Absent = the sweep cannot ask and keeps every image in.
   */
  digestsTaggedNow?(registry: string, repository: string, tag: string): Promise<string[]>;
  analyzers?: readonly Analyzer[];
  limits?: Limits;
  /** analyse foreign/non-distributable layers (Windows base layers) from their URLs instead of skipping them */
  allowForeignLayers?: boolean;
  /** matches an inventory against the current DB */
  match(inventory: Inventory): Promise<{ matches: Match[]; db: DbStamp }>;
  /** applies the policy: findings with tiers, remediation and the verdict */
  decide(inventory: Inventory, matches: Match[], db: DbStamp): Promise<Report>;
  /**
   * `match` then `decide` for a stored inventory in one call, off the event loop (the local host's
   * verdict thread, which reads and checks the blob itself), the report ready to store (its JSON and
   * what the verdict's rows take from it: never parsed here). `unreadable` when the blob is missing
   * or (`corrupt` says why) not an inventory, undefined when there is no DB yet; absent = a rescan
   * calls `match` and `decide` here.
   */
  matchAndDecideStored?(
    inventoryKey: string,
    image: { tags: string[]; ref: string; registry: string; repository: string },
  ): Promise<DecidedReport | { unreadable: { corrupt?: string } } | undefined>;
  now(): Date;
  log(message: string): void;
  /** GitHub tracking issues; absent = tracking is off and the verdict stage enqueues nothing */
  tracking?: TrackingSetup;
  /** the registries a message may name (hooks check it too; a queued message is checked again) */
  registryAllowList?: RegistryAllowList;
}
