import { z } from "zod";
import type { HeaderBag } from "./headers.js";
import { MalformedEventError, type PushEvent, parseEventBody, pushEvent } from "./push-event.js";

/** Harbor webhooks, in Harbor's default format and in its CloudEvents format. */
const PUSH_TYPES = new Set(["PUSH_ARTIFACT", "harbor.artifact.pushed"]);
/** An artifact deleted: tracking follows it (the stream's issue closes when nothing it pointed at remains). */
const DELETE_TYPES = new Set(["DELETE_ARTIFACT", "harbor.artifact.deleted"]);

const ResourceSchema = z.looseObject({
  digest: z.string().optional(),
  tag: z.string().optional(),
  resource_url: z.string().optional(),
});
const EventDataSchema = z.looseObject({
  resources: z.array(ResourceSchema).min(1),
  repository: z.looseObject({ repo_full_name: z.string().min(1) }),
});

const DefaultFormatSchema = z.looseObject({
  type: z.string(),
  occur_at: z.number(),
  event_data: z.unknown(),
});
const CloudEventsFormatSchema = z.looseObject({
  specversion: z.string(),
  id: z.string().min(1),
  type: z.string(),
  time: z.string().optional(),
  data: z.unknown(),
});

export function parseHarborEvent(body: unknown, _headers: HeaderBag): PushEvent[] {
  const isCloudEvent = typeof body === "object" && body !== null && "specversion" in body;
  if (isCloudEvent) {
    const event = parseEventBody("harbor", CloudEventsFormatSchema, body);
    if (!PUSH_TYPES.has(event.type) && !DELETE_TYPES.has(event.type)) return [];
    const data = parseEventBody("harbor", EventDataSchema, event.data);
    return artifacts(data, event.id, event.time, DELETE_TYPES.has(event.type));
  }
  const event = parseEventBody("harbor", DefaultFormatSchema, body);
  if (!PUSH_TYPES.has(event.type) && !DELETE_TYPES.has(event.type)) return [];
  const data = parseEventBody("harbor", EventDataSchema, event.event_data);
  // The default format has no event id: the push's time and content identify a redelivery.
  const first = data.resources[0]!;
  const deleted = DELETE_TYPES.has(event.type);
  const eventId = `${deleted ? "delete:" : ""}${event.occur_at}:${data.repository.repo_full_name}:${first.digest ?? first.tag ?? ""}`;
  return artifacts(data, eventId, new Date(event.occur_at * 1000).toISOString(), deleted);
}

function artifacts(
  data: z.infer<typeof EventDataSchema>,
  id: string,
  occurredAt: string | undefined,
  deleted: boolean,
): PushEvent[] {
  const repository = data.repository.repo_full_name;
  return data.resources.map((resource, index) =>
    pushEvent({
      source: "harbor",
      eventId: data.resources.length === 1 ? id : `${id}#${index}`,
      registry: registryHost(resource.resource_url, repository),
      repository,
      tag: resource.tag,
      digestCandidates: [resource.digest],
      occurredAt,
      ...(deleted ? { action: "delete" as const } : {}),
    }),
  );
}

/** `resource_url` is `<host[:port]>/<repo_full_name>(:tag|@digest)`, as Harbor's external URL names it. */
function registryHost(resourceUrl: string | undefined, repository: string): string {
  const withoutScheme = resourceUrl?.replace(/^[a-z]+:\/\//i, "");
  const at = withoutScheme?.indexOf(`/${repository}`) ?? -1;
  if (!withoutScheme || at <= 0) {
    throw new MalformedEventError(
      "harbor",
      `resource_url "${resourceUrl ?? ""}" does not name ${repository} on a host`,
    );
  }
  return withoutScheme.slice(0, at);
}
