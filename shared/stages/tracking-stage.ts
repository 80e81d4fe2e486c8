import { messageId, type TrackingMessage } from "../model/messages.js";
import { imageLabels } from "../tracking/image-labels.js";
import { type ImageStream, streamOf, streamsOf } from "../tracking/image-stream.js";
import { isTransientGitHubError } from "../tracking/issue-tracker.js";
import {
  StreamBusyError,
  type StreamEvent,
  type TrackingDeps,
  trackStream,
} from "../tracking/track-stream.js";
import type { PipelineDeps } from "./pipeline-deps.js";

const DEFAULT_MAX_ATTEMPTS = 60;
const defaultDelay = (attempt: number) => Math.min(300, 2 ** Math.min(attempt, 9));

/**
 * tracking: bring the GitHub issue of every stream the image belongs to in line with its stored
 * verdict. GitHub being down or rate limited never fails the message: it is put back with a
 * growing delay (up to hours), so scanning and the gate never wait on GitHub.
 */
export async function trackingStage(msg: TrackingMessage, deps: PipelineDeps): Promise<void> {
  const setup = deps.tracking;
  if (!setup) return;
  const tracking: TrackingDeps = {
    tables: deps.tables,
    blobs: deps.blobs,
    tracker: setup.tracker,
    config: setup.config,
    webUrl: setup.webUrl,
    imageLabels: (ref) => imageLabels(deps.openSource, ref),
    now: deps.now,
    log: deps.log,
    ...(setup.intentLeaseMs !== undefined ? { intentLeaseMs: setup.intentLeaseMs } : {}),
  };
  const streams: ImageStream[] = msg.tag
    ? [streamOf(msg.image, msg.tag, setup.config)]
    : streamsOf(msg.image, setup.config);
  const at = msg.at ?? deps.now().toISOString();
  const event: StreamEvent =
    msg.cause === "deleted"
      ? { kind: "deleted", digest: msg.image.digest, at }
      : { kind: "image", image: msg.image, at };
  try {
    for (const stream of streams)
      deps.log(`tracking ${stream.key}: ${await trackStream(stream, event, tracking)}`);
  } catch (err) {
    if (!isTransientGitHubError(err) && !(err instanceof StreamBusyError)) throw err;
    const attempt = (msg.attempt ?? 0) + 1;
    const why = (err as Error).message;
    if (attempt > (setup.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
      deps.log(`tracking ${msg.image.ref}: given up after ${attempt - 1} tries: ${why}`);
      return;
    }
    const delaySeconds = (setup.retryDelaySeconds ?? defaultDelay)(attempt);
    deps.log(`tracking ${msg.image.ref}: ${why}; trying again in ${delaySeconds}s (try ${attempt})`);
    await deps.bus.send(
      "tracking",
      { ...msg, attempt },
      {
        messageId: messageId("tracking", msg.scanId, `retry-${attempt}-${msg.cause ?? "verdict"}-${at}`),
        delaySeconds,
      },
    );
  }
}
