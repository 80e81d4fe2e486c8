import { DEFAULT_GITHUB_API_URL, DEFAULT_GITHUB_WEB_URL, githubClients } from "./github-client.js";
import { octokitIssueTracker } from "./issue-tracker.js";
import { DEFAULT_TRACKING_CONFIG, type TrackingConfig } from "../policy/tracking-config.js";
import type { TrackingRetry, TrackingSetup } from "./tracking-setup.js";

/** The app settings tracking reads (shared/composition/settings.ts defines and documents them). */
export interface GitHubSettings {
  PORTCULLIS_GITHUB_TOKEN?: string | undefined;
  PORTCULLIS_GITHUB_APP_ID?: string | undefined;
  PORTCULLIS_GITHUB_APP_PRIVATE_KEY?: string | undefined;
  PORTCULLIS_GITHUB_API_URL?: string | undefined;
  PORTCULLIS_GITHUB_URL?: string | undefined;
  PORTCULLIS_TRACKING_MAX_ATTEMPTS: number;
  PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS: number;
  PORTCULLIS_TRACKING_RETRY_MAX_SECONDS: number;
}

/** Tracking is on when a token or a GitHub App is configured; otherwise undefined (off). */
export function trackingFromSettings(
  settings: GitHubSettings,
  config: TrackingConfig | undefined,
  log: (message: string) => void,
): TrackingSetup | undefined {
  const token = settings.PORTCULLIS_GITHUB_TOKEN;
  const appId = settings.PORTCULLIS_GITHUB_APP_ID;
  // a PEM pasted into an app setting often arrives with literal "\n"
  const privateKey = settings.PORTCULLIS_GITHUB_APP_PRIVATE_KEY?.replace(/\\n/g, "\n");
  if (!token && !(appId && privateKey)) return undefined;
  const webUrl = settings.PORTCULLIS_GITHUB_URL ?? DEFAULT_GITHUB_WEB_URL;
  const clients = githubClients(
    {
      apiUrl: settings.PORTCULLIS_GITHUB_API_URL ?? DEFAULT_GITHUB_API_URL,
      webUrl,
      ...(token ? { token } : { app: { appId: appId!, privateKey: privateKey! } }),
    },
    { log },
  );
  return {
    tracker: octokitIssueTracker(clients),
    config: config ?? DEFAULT_TRACKING_CONFIG,
    webUrl,
    retry: trackingRetryOf(settings),
  };
}

/** How long tracking waits out GitHub, as the settings say. */
export function trackingRetryOf(settings: GitHubSettings): TrackingRetry {
  return {
    maxAttempts: settings.PORTCULLIS_TRACKING_MAX_ATTEMPTS,
    firstDelaySeconds: settings.PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS,
    maxDelaySeconds: settings.PORTCULLIS_TRACKING_RETRY_MAX_SECONDS,
  };
}
