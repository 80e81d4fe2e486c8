import type { BlobStore } from "../ports/blob-store.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import type { HookAuthConfig } from "../hooks/hook-auth.js";
import type { RegistryAllowList } from "../registry/registry-allow-list.js";
import type { DbRefreshResult } from "../stages/jobs/db-refresh.js";
import type { TrackingSetup } from "../tracking/tracking-setup.js";

/** What the HTTP routes need; chosen at the composition root like PipelineDeps. */
export interface HttpDeps {
  tables: TableStore;
  blobs: BlobStore;
  bus: BusSender;
  now(): Date;
  log(message: string): void;
  /** how registry hooks (Distribution, ACR, Event Grid, Harbor) prove who they are */
  hookAuth: HookAuthConfig;
  /** the GitHub webhook secret (`X-Hub-Signature-256`); unset = the GitHub hook refuses everything */
  githubWebhookSecret?: string;
  /** CloudEvents abuse-protection origins allowed to subscribe (default eventgrid.azure.net) */
  eventGridAllowedOrigins?: readonly string[];
  dedupeWindowSeconds?: number;
  /** registries an event or a manual scan may name; absent = any (unit tests of other routes) */
  registryAllowList?: RegistryAllowList;
  /** images a historical rescan queues at once (PORTCULLIS_RESCAN_BATCH_SIZE); absent = the default */
  rescanBatchSize?: number;
  /** a historical rescan holds back while matching is deeper (PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH); absent = never */
  rescanMaxQueueDepth?: number;
  /** GitHub tracking: the webhook's issue commands act through it; absent = issue events are ignored */
  tracking?: TrackingSetup;
  /** the DB refresh job (update the feeds, then the targeted rescans); absent = the route answers 503 */
  dbRefresh?: () => Promise<DbRefreshResult>;
}
