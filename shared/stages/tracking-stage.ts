import type { TrackingMessage } from "../model/messages.js";
import { imageLabels } from "../tracking/image-labels.js";
import { type ImageStream, streamOf, streamsOf } from "../tracking/image-stream.js";
import { isTransientGitHubError, statusOf } from "../tracking/issue-tracker.js";
import {
  recordGivenUp,
  StreamBusyError,
  type StreamEvent,
  type TrackingDeps,
  trackStream,
} from "../tracking/track-stream.js";
import { trackingMessageId } from "../tracking/tracking-message.js";
import { retryDelaySeconds } from "../tracking/tracking-setup.js";
import { streamsOfRepository } from "../tracking/tracking-ledger.js";
import type { PipelineDeps } from "./pipeline-deps.js";

/**
 * tracking: bring the GitHub issue of every stream the image belongs to in line with its stored
 * verdict. GitHub being down or rate limited never fails the message: it is put back with a
 * growing delay (settings PORTCULLIS_TRACKING_*), so scanning and the gate never wait on GitHub. Past `maxAttempts`
 * the message is dropped visibly: each stream's ledger row keeps the move it asked for and the
 * error (shown by the image API), and the stream's next message brings its issue up to date.
 * GitHub refusing outright (401, 403 without a rate limit, 422) is recorded the same way at once.
 * Anything else (a storage error, a bug) throws: the bus retries it, then poisons it.
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
  // a deleted manifest may be what any of the repository's streams points at: each one looks
  const streams: ImageStream[] =
    msg.cause === "deleted"
      ? await streamsOfRepository(deps.tables, msg.image)
      : msg.tag
        ? [streamOf(msg.image, msg.tag, setup.config)]
        : streamsOf(msg.image, setup.config);
  const at = msg.at ?? deps.now().toISOString();
  const event: StreamEvent =
    msg.cause === "deleted"
      ? { kind: "deleted", digest: msg.image.digest, at }
      : { kind: "image", image: msg.image, at, ...(msg.verdictRecord ? { record: msg.verdictRecord } : {}) };
  // the streams already brought up to date when one fails carry no error
  let done = 0;
  try {
    for (const stream of streams) {
      deps.log(`tracking ${stream.key}: ${await trackStream(stream, event, tracking)}`);
      done++;
    }
  } catch (err) {
    const status = statusOf(err);
    if (status >= 400 && !isTransientGitHubError(err)) {
      // GitHub refused (bad credentials, no access, an invalid request): trying again cannot help;
      // the streams show the reason, and their next message tries afresh once it is fixed
      const said = `GitHub refused (${status}) at ${deps.now().toISOString()}: ${(err as Error).message}`;
      for (const stream of streams.slice(done)) await recordGivenUp(stream, event, said, tracking);
      deps.log(`tracking ${msg.image.ref}: ${said}`);
      return;
    }
    if (!isTransientGitHubError(err) && !(err instanceof StreamBusyError)) throw err;
    const attempt = (msg.attempt ?? 0) + 1;
    const why = (err as Error).message;
    if (attempt > setup.retry.maxAttempts) {
      const said = `given up after ${attempt - 1} tries at ${deps.now().toISOString()}: ${why}`;
      for (const stream of streams.slice(done)) await recordGivenUp(stream, event, said, tracking);
      deps.log(`tracking ${msg.image.ref}: ${said}`);
      return;
    }
    const delaySeconds = retryDelaySeconds(attempt, setup.retry);
    deps.log(`tracking ${msg.image.ref}: ${why}; trying again in ${delaySeconds}s (try ${attempt})`);
    await deps.bus.send(
      "tracking",
      { ...msg, attempt },
      { messageId: trackingMessageId(msg, attempt), delaySeconds },
    );
  }
}
