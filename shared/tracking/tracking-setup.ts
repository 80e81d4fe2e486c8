import type { IssueTracker } from "./issue-tracker.js";
import type { TrackingConfig } from "../policy/tracking-config.js";

/** How the tracking stage waits out GitHub: the settings PORTCULLIS_TRACKING_* (composition/settings.ts). */
export interface TrackingRetry {
  /** after this many tries the message is dropped, loudly */
  maxAttempts: number;
  /** the first put-back's delay; each next one doubles, up to `maxDelaySeconds` */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
}

/** What the composition root hands the tracking stage when GitHub tracking is switched on. */
export interface TrackingSetup {
  tracker: IssueTracker;
  config: TrackingConfig;
  /** the web host repository URLs in image labels must be on */
  webUrl: string;
  /** how long a recorded intent holds off other writers */
  intentLeaseMs?: number;
  retry: TrackingRetry;
}

/** The delay before the `attempt`-th try (1 = the first put-back): doubling, capped. */
export function retryDelaySeconds(attempt: number, retry: TrackingRetry): number {
  const cap = Math.max(retry.firstDelaySeconds, retry.maxDelaySeconds);
  // past 2^30 the cap has long been reached; the exponent stays bounded
  return Math.min(cap, retry.firstDelaySeconds * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}
