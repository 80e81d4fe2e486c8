import { scanIdOf, type TrackingMessage } from "../model/messages.js";
import type { TrackingConfig } from "../policy/tracking-config.js";
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
import { readScan } from "./scan-state.js";

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
  const at = msg.at ?? deps.now().toISOString();
  const work = await streamEvents(msg, at, deps, setup.config);
  // the streams already brought up to date when one fails carry no error
  let done = 0;
  try {
    for (const { stream, event } of work) {
      deps.log(`tracking ${stream.key}: ${await trackStream(stream, event, tracking)}`);
      done++;
    }
  } catch (err) {
    const status = statusOf(err);
    if (status >= 400 && !isTransientGitHubError(err)) {
      // GitHub refused (bad credentials, no access, an invalid request): trying again cannot help;
      // the streams show the reason, and their next message tries afresh once it is fixed
      const said = `GitHub refused (${status}) at ${deps.now().toISOString()}: ${(err as Error).message}`;
      for (const { stream, event } of work.slice(done)) await recordGivenUp(stream, event, said, tracking);
      deps.log(`tracking ${msg.image.ref}: ${said}`);
      return;
    }
    if (!isTransientGitHubError(err) && !(err instanceof StreamBusyError)) throw err;
    const attempt = (msg.attempt ?? 0) + 1;
    const why = (err as Error).message;
    if (attempt > setup.retry.maxAttempts) {
      const said = `given up after ${attempt - 1} tries at ${deps.now().toISOString()}: ${why}`;
      for (const { stream, event } of work.slice(done)) await recordGivenUp(stream, event, said, tracking);
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

/** Which streams the message moves, and how. */
async function streamEvents(
  msg: TrackingMessage,
  at: string,
  deps: PipelineDeps,
  config: TrackingConfig,
): Promise<{ stream: ImageStream; event: StreamEvent }[]> {
  if (msg.cause === "deleted" && !msg.image.digest) {
    // a tag deleted (Distribution 3): only the stream that tag belongs to, and only when it is tracked
    const tag = msg.tag ?? "";
    const named = streamOf(msg.image, tag, config);
    const recorded = await streamsOfRepository(deps.tables, msg.image);
    return recorded
      .filter((s) => s.key === named.key)
      .map((stream) => ({ stream, event: { kind: "untagged", tag, at } }));
  }
  if (msg.cause === "deleted") {
    // a deleted manifest may be what any of the repository's streams points at: each one looks;
    // an index's own digest stands for the platform images it was resolved to
    const digests = [msg.image.digest, ...(await platformDigestsOf(deps, msg.image))];
    const streams = await streamsOfRepository(deps.tables, msg.image);
    return streams.map((stream) => ({ stream, event: { kind: "deleted", digests, at } }));
  }
  const streams = msg.tag ? [streamOf(msg.image, msg.tag, config)] : streamsOf(msg.image, config);
  const tags = msg.tag ? [msg.tag] : msg.image.tags;
  return streams.map((stream) => ({
    stream,
    event: {
      kind: "image",
      image: msg.image,
      at,
      tags: tags.filter((tag) => streamOf(msg.image, tag, config).key === stream.key),
      ...(msg.verdictRecord ? { record: msg.verdictRecord } : {}),
    },
  }));
}

/** The platform images a manifest was resolved to when it was scanned (an index's; a plain image is its own). */
async function platformDigestsOf(
  deps: PipelineDeps,
  image: { registry: string; repository: string; digest: string },
): Promise<string[]> {
  const { registry, repository, digest } = image;
  // the request's id, without a platform: the delete names the pushed manifest
  const request = await readScan(deps.tables, scanIdOf({ registry, repository, digest }));
  if (!request) return [];
  const children = await Promise.all(request.state.children.map((id) => readScan(deps.tables, id)));
  return children.flatMap((child) => (child?.state.digest ? [child.state.digest] : []));
}
