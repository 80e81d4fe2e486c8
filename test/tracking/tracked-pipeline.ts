import { expect } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import { TrackingConfigSchema } from "../../shared/policy/tracking-config.js";
import { githubClients } from "../../shared/tracking/github-client.js";
import { octokitIssueTracker } from "../../shared/tracking/issue-tracker.js";
import { readSettings } from "../../shared/composition/settings.js";
import { trackingRetryOf } from "../../shared/tracking/tracking-from-settings.js";
import type { TrackingRetry, TrackingSetup } from "../../shared/tracking/tracking-setup.js";
import { debianLayer, REGISTRY } from "../pipeline/fake-registry.js";
import { HOOK_TOKEN, type MemoryPipeline, memoryPipeline } from "../pipeline/memory-pipeline.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";
import type { FakeGitHub } from "../support/fake-github.js";

/**
 * The real stages over the memory bus and tables with tracking on, against the OpenAPI-checked
 * fake GitHub: what the tracking suites share (pushing through the Distribution hook, the gate).
 */
export const VULNERABLE = { demo: "1.0-1", jq: "1.6-2.1" };
export const DEMO_FIXED = { demo: "1.0-2", jq: "1.6-2.1" };

export interface TrackedPipeline {
  p: MemoryPipeline;
  /** pushes an image with these Debian packages and waits until every stage, tracking included, is idle */
  push(repository: string, tag: string, packages: Record<string, string>): Promise<string>;
  /** the Distribution push notification of an image already in the registry */
  notify(repository: string, tag: string, digest: string): Promise<void>;
  /** POSTs a hook body with the hook token and waits for the stages */
  hook(
    route: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body?: unknown }>;
  gate(repository: string, digest: string): Promise<number>;
  idle(): Promise<void>;
}

export function trackingSetup(github: FakeGitHub, extra: Partial<TrackingSetup> = {}): TrackingSetup {
  return {
    tracker: octokitIssueTracker(
      githubClients(
        { apiUrl: github.url, webUrl: "https://github.com", token: "test-github-token" },
        { log: () => {}, timeScale: 0.001 },
      ),
    ),
    config: TrackingConfigSchema.parse({
      acceptDays: 30,
      repositories: [{ images: ["team/**"], github: "acme/app" }],
    }),
    webUrl: "https://github.com",
    intentLeaseMs: 0,
    retry: retryFrom(),
    ...extra,
  };
}

/** The tracking stage's retry as the settings give it; put-backs 0.2 s apart unless `env` says otherwise. */
export function retryFrom(env: Record<string, string> = {}): TrackingRetry {
  return trackingRetryOf(
    readSettings({
      PORTCULLIS_TRACKING_RETRY_FIRST_SECONDS: "0.2",
      PORTCULLIS_TRACKING_RETRY_MAX_SECONDS: "0.2",
      ...env,
    }),
  );
}

let eventNo = 0;
let buildNo = 0;

export async function trackedPipeline(
  github: FakeGitHub,
  options: {
    tracking?: Partial<TrackingSetup>;
    duplicateWindowSeconds?: number;
    now?: () => Date;
    webhookSecret?: string;
  } = {},
): Promise<TrackedPipeline> {
  const p = await memoryPipeline({
    ...(options.duplicateWindowSeconds !== undefined
      ? { duplicateWindowSeconds: options.duplicateWindowSeconds }
      : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  p.deps.tracking = trackingSetup(github, options.tracking);
  p.http.tracking = p.deps.tracking;
  if (options.webhookSecret) p.http.githubWebhookSecret = options.webhookSecret;
  p.http.dedupeWindowSeconds = 0;
  p.start();
  const idle = () => p.bus.idle({ timeoutMs: 60_000 });
  const hook = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
    const answer = await dispatch(
      request("POST", route, {
        body,
        headers: { ...bearer(HOOK_TOKEN), "content-type": "application/json", ...headers },
      }),
      p.http,
    );
    await idle();
    return answer;
  };
  const notify = async (repository: string, tag: string, digest: string) => {
    const answer = await dispatch(
      request("POST", "/api/hooks/distribution", {
        body: distributionPush(REGISTRY, repository, tag, digest, `tracked-${process.pid}-${++eventNo}`),
        headers: {
          ...bearer(HOOK_TOKEN),
          "content-type": "application/vnd.docker.distribution.events.v2+json",
        },
      }),
      p.http,
    );
    expect(answer.status).toBe(202);
  };
  return {
    p,
    idle,
    hook,
    notify,
    async push(repository, tag, packages) {
      const layer = await debianLayer(packages, `tracked-build-${++buildNo}`);
      const [image] = p.registry.push(repository, tag, [{ layers: [layer] }]);
      await notify(repository, tag, image!.identity.digest);
      await idle();
      return image!.identity.digest;
    },
    async gate(repository, digest) {
      return (await dispatch(request("GET", `/api/gate?image=${REGISTRY}/${repository}@${digest}`), p.http))
        .status;
    },
  };
}
