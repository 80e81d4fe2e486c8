import { z } from "zod";
import type { HeaderBag } from "./headers.js";
import { isScannableManifest } from "./manifest-push.js";
import { MalformedEventError, type PushEvent, parseEventBody, pushEvent } from "./push-event.js";
import { AcrRequestSchema, RegistryTargetSchema } from "./registry-target.js";

export const IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed";
export const IMAGE_DELETED = "Microsoft.ContainerRegistry.ImageDeleted";

/**
 * One event in either Event Grid schema or CloudEvents 1.0 schema: the type is `eventType` in the
 * first, `type` in the second. Validation of the rest waits until we know the event matters.
 */
const EventSchema = z
  .looseObject({
    id: z.string().min(1),
    eventType: z.string().optional(),
    type: z.string().optional(),
    eventTime: z.string().optional(),
    time: z.string().optional(),
    data: z.unknown(),
  })
  .refine((e) => e.eventType !== undefined || e.type !== undefined, "neither eventType nor type");
type GridEvent = z.infer<typeof EventSchema>;

/** Event Grid POSTs an array; a Functions Event Grid trigger hands over one event: take both. */
const BodySchema = z.union([z.array(EventSchema), EventSchema.transform((e) => [e])]);

const ImageEventDataSchema = z.looseObject({
  id: z.string().optional(),
  timestamp: z.string().optional(),
  target: RegistryTargetSchema,
  request: AcrRequestSchema,
});

export const eventTypeOf = (event: { eventType?: string; type?: string }): string =>
  (event.eventType ?? event.type)!;

export function parseEventGridEvents(body: unknown, _headers: HeaderBag): PushEvent[] {
  const events = parseEventBody("acr-eventgrid", BodySchema, body);
  return events.flatMap((event) => {
    const type = eventTypeOf(event);
    return type === IMAGE_PUSHED
      ? imageEvent(event, "push")
      : type === IMAGE_DELETED
        ? imageEvent(event, "delete")
        : [];
  });
}

/** `data` arrives as an object, or (some deliveries, some SDKs) as a JSON string of it. */
export function eventData(event: { id: string; data?: unknown }): unknown {
  if (typeof event.data !== "string") return event.data;
  try {
    return JSON.parse(event.data);
  } catch (err) {
    throw new MalformedEventError("acr-eventgrid", `event ${event.id}: data is a string but not JSON`, {
      cause: err,
    });
  }
}

/**
 * An ImagePushed (scanned when it is an image or index) or ImageDeleted (by digest; tracking
 * follows, nothing is scanned). An artifact we cannot scan is not an error: answering 400 would
 * only make Event Grid retry it.
 */
function imageEvent(event: GridEvent, action: "push" | "delete"): PushEvent[] {
  const data = parseEventBody("acr-eventgrid", ImageEventDataSchema, eventData(event));
  if (action === "push" && !isScannableManifest(data.target.mediaType, { optional: true })) return [];
  return [
    pushEvent({
      source: "acr-eventgrid",
      eventId: event.id,
      registry: data.request.host,
      repository: data.target.repository,
      tag: data.target.tag,
      digestCandidates: [data.target.digest],
      occurredAt: data.timestamp ?? event.eventTime ?? event.time,
      ...(action === "delete" ? { action } : { mediaType: data.target.mediaType }),
    }),
  ];
}
