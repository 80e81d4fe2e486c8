import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { ScanError } from "../model/errors.js";

/** Octokit with GitHub's recommended throttling and retries around every request. */
export const TrackingOctokit = Octokit.plugin(throttling, retry);
export type TrackingOctokitClient = InstanceType<typeof TrackingOctokit>;

export interface GitHubAccess {
  /** REST API base: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server */
  apiUrl: string;
  /** the web host repository URLs are on (image labels): https://github.com */
  webUrl: string;
  token?: string;
  app?: { appId: string; privateKey: string };
}

export interface GitHubClientOptions {
  log(message: string): void;
  /** retries of a rate-limited or failing request before the stage reschedules the message */
  retries?: number;
  /** scales every wait (Retry-After, back-off, the 1 s between writes); tests use a small value */
  timeScale?: number;
}

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
export const DEFAULT_GITHUB_WEB_URL = "https://github.com";

/**
 * One client per repository owner: with a token it is the same client for all; with a GitHub App
 * each owner's installation is looked up once and its installation token refreshed by auth-app.
 */
export function githubClients(
  access: GitHubAccess,
  options: GitHubClientOptions,
): (owner: string, repo: string) => Promise<TrackingOctokitClient> {
  const scale = options.timeScale ?? 1;
  const retries = options.retries ?? 3;
  // one write queue per process: GitHub asks for one content-creating request at a time, a second apart
  const write = new Bottleneck.Group({ maxConcurrent: 1, minTime: 1_000 * scale });
  // issues and comments notify people: GitHub asks for three seconds between them
  const notifications = new Bottleneck.Group({ maxConcurrent: 1, minTime: 3_000 * scale });
  const make = (auth: Record<string, unknown>) =>
    new TrackingOctokit({
      ...auth,
      baseUrl: access.apiUrl.replace(/\/+$/, ""),
      userAgent: "portcullis-tracking",
      log: {
        debug: () => {},
        info: () => {},
        warn: (m: string) => options.log(`github: ${m}`),
        error: (m: string) => options.log(`github: ${m}`),
      },
      retry: { retries, retryAfterBaseValue: 1_000 * scale },
      throttle: {
        write,
        notifications,
        retryAfterBaseValue: 1_000 * scale,
        onRateLimit: (after: number, o: { method: string; url: string }, _: unknown, count: number) => {
          options.log(`github: rate limited on ${o.method} ${o.url}, retry ${count + 1} after ${after}s`);
          return count < retries;
        },
        onSecondaryRateLimit: (
          after: number,
          o: { method: string; url: string },
          _: unknown,
          count: number,
        ) => {
          options.log(
            `github: secondary rate limit on ${o.method} ${o.url}, retry ${count + 1} after ${after}s`,
          );
          return count < retries;
        },
      },
    });
  if (access.token) {
    const client = make({ auth: access.token });
    return async () => client;
  }
  if (!access.app)
    throw new ScanError(
      "invalid-settings",
      "GitHub tracking needs PORTCULLIS_GITHUB_TOKEN or PORTCULLIS_GITHUB_APP_ID + PORTCULLIS_GITHUB_APP_PRIVATE_KEY",
    );
  const app = access.app;
  const appClient = make({
    authStrategy: createAppAuth,
    auth: { appId: app.appId, privateKey: app.privateKey },
  });
  const perOwner = new Map<string, Promise<TrackingOctokitClient>>();
  return (owner, repo) => {
    const key = owner.toLowerCase();
    let client = perOwner.get(key);
    if (!client) {
      client = appClient.rest.apps.getRepoInstallation({ owner, repo }).then(({ data }) =>
        make({
          authStrategy: createAppAuth,
          auth: { appId: app.appId, privateKey: app.privateKey, installationId: data.id },
        }),
      );
      // a failed lookup (GitHub down) is tried again next time, not cached
      client.catch(() => perOwner.delete(key));
      perOwner.set(key, client);
    }
    return client;
  };
}
