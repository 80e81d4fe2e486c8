import { z } from "zod";
import { type HeaderBag, headerValue } from "./headers.js";
import { isScannableManifest } from "./manifest-push.js";
import { MalformedEventError, type PushEvent, parseEventBody, pushEvent } from "./push-event.js";
import { RegistryTargetSchema } from "./registry-target.js";

/** Docker Distribution (registry:2, Harbor's core, GitLab …) notification envelopes. */
const CONTENT_TYPES = new Set([
  "application/vnd.docker.distribution.events.v1+json",
  "application/vnd.docker.distribution.events.v2+json",
  "application/json",
]);

const EnvelopeSchema = z.object({
  events: z.array(z.looseObject({ id: z.string().min(1), action: z.string() })),
});

const PushSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.string().optional(),
  target: RegistryTargetSchema.extend({ url: z.string().optional() }),
  request: z.looseObject({ host: z.string().optional() }).optional(),
});

/** A manifest (or, on Distribution 3, a tag) removed: `target` has the digest or the tag, rarely a media type. */
const DeleteSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.string().optional(),
  target: RegistryTargetSchema,
  request: z.looseObject({ host: z.string().optional() }).optional(),
});

/**
 * Every manifest push in the envelope, and every manifest delete (for tracking); pulls, mounts and
 * blob pushes are neither.
 */
export function parseDistributionEvents(body: unknown, headers: HeaderBag): PushEvent[] {
  const contentType = headerValue(headers, "content-type")?.split(";")[0]?.trim().toLowerCase();
  if (contentType && !CONTENT_TYPES.has(contentType)) {
    throw new MalformedEventError("distribution", `unsupported content type "${contentType}"`);
  }
  const envelope = parseEventBody("distribution", EnvelopeSchema, body);
  const events: PushEvent[] = [];
  for (const raw of envelope.events) {
    if (raw.action === "delete") {
      events.push(deleted(parseEventBody("distribution", DeleteSchema, raw)));
      continue;
    }
    if (raw.action !== "push") continue;
    const event = parseEventBody("distribution", PushSchema, raw);
    if (!isScannableManifest(event.target.mediaType)) continue;
    events.push(
      pushEvent({
        source: "distribution",
        eventId: event.id,
        registry: registryHost(event.target.url, event.request?.host, event.id),
        repository: event.target.repository,
        tag: event.target.tag,
        digestCandidates: [event.target.digest],
        mediaType: event.target.mediaType,
        occurredAt: event.timestamp,
      }),
    );
  }
  return events;
}

function deleted(event: z.infer<typeof DeleteSchema>): PushEvent {
  return pushEvent({
    source: "distribution",
    eventId: event.id,
    registry: registryHost(undefined, event.request?.host, event.id),
    repository: event.target.repository,
    tag: event.target.tag,
    digestCandidates: [event.target.digest],
    occurredAt: event.timestamp,
    action: "delete",
  });
}

/** `target.url` carries the registry's configured external name (`http.host`); `request.host` is the fallback. */
function registryHost(url: string | undefined, requestHost: string | undefined, id: string): string {
  if (url) {
    try {
      return new URL(url).host;
    } catch {
      // a relative or broken URL: fall through to the request's Host header
    }
  }
  if (requestHost) return requestHost;
  throw new MalformedEventError(
    "distribution",
    `event ${id} names no registry host (no target.url, no request.host)`,
  );
}
