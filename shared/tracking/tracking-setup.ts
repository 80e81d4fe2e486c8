import type { IssueTracker } from "./issue-tracker.js";
import type { TrackingConfig } from "../policy/tracking-config.js";

/** What the composition root hands the tracking stage when GitHub tracking is switched on. */
export interface TrackingSetup {
  tracker: IssueTracker;
  config: TrackingConfig;
  /** the web host repository URLs in image labels must be on */
  webUrl: string;
  /** how long a recorded intent holds off other writers */
  intentLeaseMs?: number;
  /** seconds before a message is tried again while GitHub is unreachable (default 2, 4, 8 … 300) */
  retryDelaySeconds?: (attempt: number) => number;
  /** after this many tries the message is dropped, loudly (default 60: hours of outage) */
  maxAttempts?: number;
}
